"""Re-run: the same endpoint, input and seed again; with the local engine, the same image."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from PIL import Image as PILImage

from gallery.links import signed_media_url
from gallery.metadata import signed_link_name
from gallery.models import Image
from gallery.recipes import content_checksum, read_recipe, strip_recipe
from gallery.services import store_job_result
from jobs.models import Job, Stage
from tests.conftest import wait_for_job_end
from tests.factories import ImageFactory, JobResultFactory, png_bytes, stored_bytes


@pytest.fixture
def _no_submit(monkeypatch):
    # Tests about the jobs a re-run creates; the end-to-end ones below run them for real.
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)


def rerun_url(image: Image) -> str:
    return reverse("create:rerun", args=[image.pk])


# --- end to end: real engine over HTTP, real worker --------------------------------------


@pytest.mark.django_db(transaction=True)
def test_rerun_gives_the_identical_image(owner_client, owner, studio_on_engine):
    owner_client.post(
        reverse("create:create-endpoint", args=["sdxl/generative"]),
        {
            "prompt": "a lighthouse at dusk",
            "negative_prompt": "fog",
            "canvas": "Landscape",
            "guidance": "9",
            "model": "v1",
        },
    )
    first = wait_for_job_end(Job.objects.get())
    assert first.status == Stage.SUCCEEDED, first.error
    original = first.image

    response = owner_client.post(rerun_url(original))
    again_job = Job.objects.exclude(pk=first.pk).get()
    assert response.status_code == 302 and response["Location"] == again_job.get_absolute_url()
    assert again_job.endpoint == first.endpoint
    assert again_job.input == first.input and again_job.seed == first.seed
    assert wait_for_job_end(again_job).status == Stage.SUCCEEDED, again_job.error
    again = again_job.image

    before, after = stored_bytes(original), stored_bytes(again)
    # The engine's bytes are identical; the files differ only in the lineage (job id).
    assert content_checksum(before) == content_checksum(after)
    assert strip_recipe(before) == strip_recipe(after)
    assert hashlib.sha256(strip_recipe(after)).hexdigest() == content_checksum(after)
    assert again.checksum == hashlib.sha256(after).hexdigest()
    assert PILImage.open(again.file.path).tobytes() == PILImage.open(original.file.path).tobytes()
    old_recipe, new_recipe = read_recipe(before), read_recipe(after)
    assert (old_recipe.endpoint, old_recipe.prompt, old_recipe.params, old_recipe.seed) == (
        new_recipe.endpoint,
        new_recipe.prompt,
        new_recipe.params,
        new_recipe.seed,
    )
    assert new_recipe.lineage == {"image": None, "parent": None, "job": again_job.pk}

    # A sibling, not a child: the lineage's children are utility results only.
    assert again.parent is None and not original.children.exists()
    assert (again.seed, again.prompt, again.params) == (
        original.seed,
        original.prompt,
        original.params,
    )


@pytest.mark.django_db(transaction=True)
def test_rerun_of_a_utility_result_signs_its_input_again(owner_client, owner, studio_on_engine):
    source = JobResultFactory(
        owner=owner, endpoint="flux/dev", body={"prompt": "a portrait", "canvas": "Square"}
    )
    owner_client.post(
        reverse("create:create-endpoint", args=["utils/clarify"]),
        {"image_source": "gallery", "image_image": source.pk, "type": "Image Denoising"},
    )
    first = wait_for_job_end(Job.objects.get(endpoint="utils/clarify"))
    assert first.status == Stage.SUCCEEDED, first.error
    clarified = first.image
    assert clarified.parent == source

    owner_client.post(rerun_url(clarified))
    again_job = Job.objects.filter(endpoint="utils/clarify").exclude(pk=first.pk).get()
    # The same image, through a fresh signed link (the old one may have expired).
    assert signed_link_name(again_job.input["image"]) == source.file.name
    assert again_job.input["type"] == "Image Denoising"
    assert again_job.parent_image == source
    assert wait_for_job_end(again_job).status == Stage.SUCCEEDED, again_job.error
    assert content_checksum(stored_bytes(again_job.image)) == content_checksum(
        stored_bytes(clarified)
    )
    # Both are children of the source: utility results.
    assert set(source.children.values_list("pk", flat=True)) == {clarified.pk, again_job.image.pk}


@pytest.mark.django_db(transaction=True)
def test_member_rerun_saved_to_the_team_lands_in_the_team_gallery(
    client, owner, team, member, studio_on_engine
):
    shared = JobResultFactory(owner=owner, team=team)
    assert shared.team == team
    client.force_login(member)
    client.post(rerun_url(shared), {"save_to": str(team.pk)})
    job = wait_for_job_end(Job.objects.get(owner=member))
    assert job.status == Stage.SUCCEEDED, job.error
    assert job.image.owner == member and job.image.team == team


# --- the jobs it creates --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("_no_submit")
def test_htmx_rerun_answers_with_the_job_card(owner_client, owner):
    image = JobResultFactory(owner=owner, seed=55)
    response = owner_client.post(rerun_url(image), headers={"HX-Request": "true"})
    job = Job.objects.exclude(pk=image.job_id).get()
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="job-{job.pk}"' in html and f"sse:job-{job.pk}" in html
    assert "<html" not in html
    assert job.seed == 55 and job.input == image.job.input


@pytest.mark.django_db
@pytest.mark.usefixtures("_no_submit")
def test_rerun_without_the_job_rebuilds_the_body_from_the_image(owner_client, owner):
    image = JobResultFactory(
        owner=owner,
        endpoint="sd/1/generative",
        body={"prompt": "a", "canvas": "Portrait", "guidance": 4.0},
        seed=9,
    )
    Job.objects.filter(pk=image.job_id).delete()
    image.refresh_from_db()
    assert image.job is None
    owner_client.post(rerun_url(image))
    job = Job.objects.get()
    assert job.input == {"prompt": "a", "canvas": "Portrait", "guidance": 4.0, "seed": 9}
    assert job.seed == 9


@pytest.mark.django_db
@pytest.mark.usefixtures("_no_submit")
def test_an_upload_has_nothing_to_rerun(owner_client, owner):
    upload = ImageFactory(owner=owner, upload=True)
    response = owner_client.post(rerun_url(upload))
    assert response.status_code == 302 and response["Location"] == upload.get_absolute_url()
    [message] = list(get_messages(response.wsgi_request))
    assert "uploaded: there is no recipe to run again" in str(message)
    assert not Job.objects.exists()
    htmx = owner_client.post(rerun_url(upload), headers={"HX-Request": "true"})
    assert "no recipe to run again" in htmx.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("_no_submit")
def test_rerun_refuses_when_the_input_image_is_gone_or_hidden(client, owner, team, member):
    private_source = ImageFactory(owner=owner, upload=True)
    job = Job.objects.create(
        owner=owner,
        endpoint="utils/facerestore",
        input={"image": signed_media_url(private_source.file.name, owner.pk)},
        status=Stage.SUCCEEDED,
        parent_image=private_source,
        team=team,
    )
    restored = store_job_result(job, png_bytes(), "image/png")
    assert restored.team == team
    # The member sees the team's result, not the author's private input.
    client.force_login(member)
    response = client.post(rerun_url(restored))
    assert response.status_code == 302
    [message] = list(get_messages(response.wsgi_request))
    assert "no longer in a gallery you can see" in str(message)
    assert Job.objects.filter(owner=member).count() == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("_no_submit")
def test_team_image_rerun_by_a_member_goes_private_unless_they_choose_the_team(
    client, owner, team, member
):
    shared = JobResultFactory(owner=owner, team=team, seed=4)
    client.force_login(member)
    client.post(rerun_url(shared))
    private = Job.objects.get(owner=member)
    assert private.team is None and private.seed == 4
    client.post(rerun_url(shared), {"save_to": str(team.pk)})
    into_team = Job.objects.filter(owner=member).exclude(pk=private.pk).get()
    assert into_team.team == team


@pytest.mark.django_db
@pytest.mark.usefixtures("_no_submit")
def test_a_viewer_may_rerun_privately_but_not_into_the_team(client, owner, team, viewer):
    shared = JobResultFactory(owner=owner, team=team)
    client.force_login(viewer)
    response = client.post(rerun_url(shared), {"save_to": str(team.pk)})
    [message] = list(get_messages(response.wsgi_request))
    assert "You can't save to that team" in str(message)
    assert not Job.objects.filter(owner=viewer).exists()
    client.post(rerun_url(shared))
    assert Job.objects.get(owner=viewer).team is None


@pytest.mark.django_db
@pytest.mark.usefixtures("_no_submit")
def test_team_quota_refusal_is_said_and_nothing_is_created(client, owner, team, member):
    team.daily_job_quota = 0
    team.save()
    shared = JobResultFactory(owner=owner, team=team)
    client.force_login(member)
    response = client.post(rerun_url(shared), {"save_to": str(team.pk)})
    [message] = list(get_messages(response.wsgi_request))
    assert "jobs for today" in str(message)
    assert not Job.objects.filter(owner=member).exists()


@pytest.mark.django_db
def test_another_users_image_is_404_and_get_is_refused(client, owner, outsider, team):
    private = JobResultFactory(owner=owner)
    shared = JobResultFactory(owner=owner, team=team)
    client.force_login(outsider)
    for image in (private, shared):
        assert client.post(rerun_url(image)).status_code == 404
    assert client.post(reverse("create:rerun", args=[999999])).status_code == 404
    client.force_login(owner)
    assert client.get(rerun_url(private)).status_code == 405
    assert Job.objects.count() == 2  # the two made by the helper


@pytest.mark.django_db
def test_signed_out_is_sent_to_sign_in(client, owner):
    image = JobResultFactory(owner=owner)
    response = client.post(rerun_url(image))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


# --- the image's page ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_image_page_offers_every_way_to_make_it_again(client, owner, team, settings):
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:9/engine"
    image = JobResultFactory(owner=owner)
    other = ImageFactory(owner=owner, upload=True, content=png_bytes(colour=(5, 5, 5)))
    client.force_login(owner)
    html = client.get(reverse("gallery:detail", args=[image.pk])).content.decode()
    assert f'action="{rerun_url(image)}"' in html
    assert f'href="{reverse("create:remix", args=[image.pk])}"' in html
    assert f'action="{reverse("create:variations", args=[image.pk])}"' in html
    for slug in ("utils/upscale", "utils/facerestore", "utils/clarify"):
        assert f'href="{reverse("create:send", args=[image.pk, slug])}"' in html
    assert f'action="{reverse("create:send-faceswap", args=[image.pk])}"' in html
    assert f'<option value="{other.pk}">' in html
    assert f'<option value="{team.pk}">Studio team</option>' in html  # save to
    assert 'id="remade"' in html

    upload_page = client.get(reverse("gallery:detail", args=[other.pk])).content.decode()
    assert "create:rerun" not in upload_page and rerun_url(other) not in upload_page
    assert reverse("create:send", args=[other.pk, "utils/upscale"]) in upload_page


@pytest.mark.django_db
def test_seedless_models_say_a_rerun_differs(client, owner, settings):
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:9/engine"
    image = JobResultFactory(owner=owner, endpoint="flux/schnell", body={"prompt": "a"}, seed=None)
    client.force_login(owner)
    html = client.get(reverse("gallery:detail", args=[image.pk])).content.decode()
    assert "This model takes no seed: a re-run gives a different image." in html
