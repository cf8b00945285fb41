"""Remix: the image's create form, filled with its recipe, the seed left empty."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from gallery.links import signed_media_url
from gallery.services import store_job_result
from jobs.models import Job, Stage
from tests.factories import ImageFactory, JobResultFactory, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _api_down(settings):
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:9/engine"  # the form's health check: fast


def remix(client, image):
    response = client.get(reverse("create:remix", args=[image.pk]))
    assert response.status_code == 302, response.status_code
    return response["Location"]


def test_remix_opens_the_form_with_the_recipe_and_no_seed(owner_client, owner):
    image = JobResultFactory(
        owner=owner,
        endpoint="sdxl/generative",
        body={
            "prompt": "a lighthouse, storm & spray",
            "negative_prompt": "people",
            "model": "lightning",
            "canvas": "Portrait",
            "guidance": 12.5,
        },
        seed=2024,
    )
    location = remix(owner_client, image)
    path, query = urlsplit(location).path, parse_qs(urlsplit(location).query)
    assert path == reverse("create:create-endpoint", args=["sdxl/generative"])
    assert "seed" not in query

    response = owner_client.get(location)
    form = response.context["form"]
    assert form.initial == {
        "prompt": "a lighthouse, storm & spray",
        "negative_prompt": "people",
        "model": "lightning",
        "canvas": "Portrait",
        "guidance": "12.5",
    }
    html = response.content.decode()
    seed_input = re.search(r'<input[^>]*name="seed"[^>]*>', html).group(0)
    assert "value=" not in seed_input  # unlocked: a new seed is drawn
    assert 'name="seed_locked"' in html and "checked" not in re.search(
        r'<input[^>]*name="seed_locked"[^>]*>', html
    ).group(0)


def test_remix_booleans_go_in_only_when_true(owner_client, owner):
    raw = JobResultFactory(
        owner=owner,
        endpoint="flux/1.1/pro-ultra",
        body={"prompt": "a", "canvas": "Square", "raw": True},
    )
    plain = JobResultFactory(
        owner=owner,
        endpoint="flux/1.1/pro-ultra",
        body={"prompt": "a", "canvas": "Square", "raw": False},
    )
    assert parse_qs(urlsplit(remix(owner_client, raw)).query)["raw"] == ["on"]
    assert "raw" not in parse_qs(urlsplit(remix(owner_client, plain)).query)
    form = owner_client.get(remix(owner_client, raw)).context["form"]
    assert form["raw"].value() in (True, "on")


def test_remix_of_a_utility_result_chooses_its_input_from_the_gallery(owner_client, owner):
    source = ImageFactory(owner=owner, upload=True)
    job = Job.objects.create(
        owner=owner,
        endpoint="utils/upscale",
        input={
            "image": signed_media_url(source.file.name, owner.pk),
            "model": "Openjourney Redefine",
        },
        status=Stage.SUCCEEDED,
        parent_image=source,
    )
    upscaled = store_job_result(job, png_bytes(), "image/png")
    location = remix(owner_client, upscaled)
    form = owner_client.get(location).context["form"]
    assert form.initial == {
        "image_source": "gallery",
        "image_image": str(source.pk),
        "model": "Openjourney Redefine",
    }
    assert "/media/signed/" not in location


def test_remix_of_a_face_swap_keeps_face_and_target(owner_client, owner):
    face, target = (
        ImageFactory(owner=owner, upload=True),
        ImageFactory(owner=owner, upload=True, content=png_bytes(colour=(0, 0, 255))),
    )
    job = Job.objects.create(
        owner=owner,
        endpoint="utils/faceswap",
        input={
            "source": signed_media_url(face.file.name, owner.pk),
            "target": signed_media_url(target.file.name, owner.pk),
        },
        status=Stage.SUCCEEDED,
        parent_image=target,
    )
    swapped = store_job_result(job, png_bytes(), "image/png")
    query = parse_qs(urlsplit(remix(owner_client, swapped)).query)
    assert query == {
        "source_source": ["gallery"],
        "source_image": [str(face.pk)],
        "target_source": ["gallery"],
        "target_image": [str(target.pk)],
    }


def test_remix_without_the_job_uses_the_images_recipe(owner_client, owner):
    image = JobResultFactory(
        owner=owner, endpoint="sd/1/generative", body={"prompt": "a", "canvas": "Landscape"}, seed=3
    )
    Job.objects.filter(pk=image.job_id).delete()
    query = parse_qs(urlsplit(remix(owner_client, image)).query)
    assert query == {"prompt": ["a"], "canvas": ["Landscape"]}


def test_team_members_may_remix_a_team_image(client, owner, team, member, viewer):
    shared = JobResultFactory(owner=owner, team=team)
    for user in (member, viewer):
        client.force_login(user)
        assert "prompt=a+red+fox" in remix(client, shared)


def test_an_upload_has_nothing_to_remix(owner_client, owner):
    upload = ImageFactory(owner=owner, upload=True)
    response = owner_client.get(reverse("create:remix", args=[upload.pk]))
    assert response["Location"] == upload.get_absolute_url()
    [message] = list(get_messages(response.wsgi_request))
    assert "no recipe" in str(message)


def test_another_users_image_is_404(client, owner, outsider, team):
    private, shared = JobResultFactory(owner=owner), JobResultFactory(owner=owner, team=team)
    client.force_login(outsider)
    for image in (private, shared):
        assert client.get(reverse("create:remix", args=[image.pk])).status_code == 404
