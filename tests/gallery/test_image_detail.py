"""One image: the full picture, its whole recipe, the original's download, its lineage."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gallery.models import Image
from jobs.models import Job
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


def detail(image: Image) -> str:
    return reverse("gallery:detail", args=[image.pk])


def test_shows_the_full_image_and_every_part_of_the_recipe(owner_client, owner):
    job = Job.objects.create(owner=owner, endpoint="flux/dev", input={"prompt": "p"}, seed=42)
    image = ImageFactory(
        owner=owner,
        prompt="a lighthouse <b>at dawn</b>",
        negative_prompt="fog",
        endpoint="flux/dev",
        params={"canvas": "Portrait", "guidance": 3.5, "steps": 28},
        seed=42,
        job=job,
    )
    response = owner_client.get(detail(image))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'src="{reverse("gallery:file", args=[image.pk])}"' in html
    assert "a lighthouse &lt;b&gt;at dawn&lt;/b&gt;" in html  # escaped, never raw
    assert "<b>at dawn</b>" not in html
    assert "fog" in html
    assert "FLUX · Dev" in html and "/v1/flux/dev" in html
    for key, value in (("canvas", "Portrait"), ("guidance", "3.5"), ("steps", "28")):
        assert f"<dt>{key}</dt><dd>{value}</dd>" in html
    assert "<dt>Seed</dt><dd>42</dd>" in html
    assert reverse("jobs:detail", args=[job.pk]) in html
    assert image.checksum in html
    assert f"{image.width} × {image.height} px" in html
    assert "PNG (image/png)" in html
    assert f'datetime="{image.created_at.isoformat()}"' in html
    assert "owner (you)" in html and "Nobody (private)" in html


def test_download_gives_the_original_bytes_as_an_attachment(owner_client, owner):
    image = ImageFactory(owner=owner)
    response = owner_client.get(reverse("gallery:file", args=[image.pk]), {"download": "1"})
    assert response.status_code == 200
    assert f'filename="openjourney-{image.pk}.png"' in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment")
    with default_storage.open(image.file.name, "rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()
    html = owner_client.get(detail(image)).content.decode()
    assert f"{reverse('gallery:file', args=[image.pk])}?download=1" in html


def test_lineage_links_the_parent_and_shows_the_children(owner_client, owner):
    parent = ImageFactory(owner=owner, prompt="the parent")
    child = ImageFactory(owner=owner, parent=parent, prompt="upscaled", endpoint="utils/upscale")
    sibling = ImageFactory(owner=owner, parent=parent, prompt="variation")
    child_html = owner_client.get(detail(child)).content.decode()
    assert f'href="{detail(parent)}"' in child_html
    assert "Compare with it" in child_html
    parent_html = owner_client.get(detail(parent)).content.decode()
    for kid in (child, sibling):
        assert f'href="{detail(kid)}"' in parent_html
        assert reverse("gallery:thumbnail", args=[kid.pk]) in parent_html
    assert "Not made from another image" in parent_html


def test_a_parent_or_child_the_user_cannot_see_stays_hidden(client, owner, member, team):
    secret_parent = ImageFactory(owner=owner, prompt="private parent")
    shared = ImageFactory(owner=owner, team=team, parent=secret_parent)
    ImageFactory(owner=owner, parent=shared, prompt="private child")
    client.force_login(member)
    html = client.get(detail(shared)).content.decode()
    assert "Made from an image you cannot see" in html
    assert detail(secret_parent) not in html
    assert "No image has been made from this one yet" in html


def test_team_image_shows_its_author_and_team_to_a_member(client, owner, member, team):
    job = Job.objects.create(owner=owner, endpoint="flux/dev", input={})
    image = ImageFactory(owner=owner, team=team, job=job)
    client.force_login(member)
    response = client.get(detail(image))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<dt>Author</dt><dd>owner</dd>" in html
    assert f"<dd>{team.name}</dd>" in html
    # The job is the author's: named, but not linked for another member.
    assert f"Job #{job.pk}" in html and reverse("jobs:detail", args=[job.pk]) not in html


def test_delete_is_offered_only_to_who_may_delete(client, owner, viewer, member, team):
    image = ImageFactory(owner=owner, team=team)
    delete_link = f"{reverse('gallery:delete')}?ids={image.pk}"
    client.force_login(viewer)
    assert delete_link not in client.get(detail(image)).content.decode()
    client.force_login(member)
    assert delete_link in client.get(detail(image)).content.decode()


@pytest.mark.parametrize("name", ["gallery:detail", "gallery:file", "gallery:thumbnail"])
def test_another_users_image_answers_404(owner_client, outsider, name):
    image = ImageFactory(owner=outsider)
    assert owner_client.get(reverse(name, args=[image.pk])).status_code == 404
    assert owner_client.get(reverse(name, args=[image.pk + 1000])).status_code == 404


def test_an_image_from_an_unknown_endpoint_still_shows(owner_client, owner):
    image = ImageFactory(owner=owner, endpoint="retired/model")
    html = owner_client.get(detail(image)).content.decode()
    assert "/v1/retired/model" in html


def test_an_upload_says_so(owner_client, owner):
    html = owner_client.get(
        detail(ImageFactory(owner=owner, endpoint="", prompt=""))
    ).content.decode()
    assert "<dd>Upload</dd>" in html


def test_detail_queries_do_not_grow_with_the_children(owner_client, owner):
    parent = ImageFactory(owner=owner)
    image = ImageFactory(owner=owner, parent=parent)
    ImageFactory(owner=owner, parent=image)
    with CaptureQueriesContext(connection) as one_child:
        owner_client.get(detail(image))
    for _ in range(6):
        ImageFactory(owner=owner, parent=image)
    with CaptureQueriesContext(connection) as seven_children:
        html = owner_client.get(detail(image)).content.decode()
    assert html.count('class="tile"') >= 7
    assert len(seven_children) == len(one_child)
