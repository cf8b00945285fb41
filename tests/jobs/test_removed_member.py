"""A member removed from a team loses every way in to its images at once: the signed link
their utility job was sent with, the job's page, the image's page and its files.

On the real path: the form, a Celery worker, the engine over HTTP (it reads the studio's
signed link from storage), the stored result. Links are minted as the job is sent, for the
API's fetch only; no page shows one.
"""

from __future__ import annotations

import time

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from gallery.links import read_signed_value, signed_media_url
from gallery.metadata import signed_link_name
from gallery.models import Image
from jobs.models import Job, Stage
from jobs.tasks import follow_jobs, submit_job
from openjourney.links import MEDIA_LINK_MAX_AGE
from teams.models import Membership
from tests.conftest import wait_for_job_end
from tests.factories import JobResultFactory

pytestmark = pytest.mark.django_db(transaction=True)


def upscale(client: Client, image: Image) -> Job:
    response = client.post(
        reverse("create:create-endpoint", args=["utils/upscale"]),
        {"image_source": "gallery", "image_image": image.pk, "model": "Real-ESRGAN"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return Job.objects.get(endpoint="utils/upscale")


def test_a_removed_viewer_loses_the_link_and_every_page_at_once(
    owner, team, viewer, viewer_client, studio_on_engine
):
    shared = JobResultFactory(owner=owner, team=team)
    job = wait_for_job_end(upscale(viewer_client, shared))
    assert job.status == Stage.SUCCEEDED, job.error
    link = job.input["image"]
    assert signed_link_name(link) == shared.file.name
    assert httpx.get(link).status_code == 200  # what the API fetched, while a member

    # The owner removes the viewer.
    owner_client = Client()
    owner_client.force_login(owner)
    response = owner_client.post(reverse("teams:member-remove", args=[team.pk, viewer.pk]))
    assert response.status_code in (200, 302)
    assert not Membership.objects.filter(team=team, user=viewer).exists()

    # The link, signed out and signed in as the viewer.
    assert httpx.get(link).status_code == 404
    path = "/media/signed/" + link.rsplit("/media/signed/", 1)[1]
    assert viewer_client.get(path).status_code == 404
    # The team image's page and files.
    for name in ("gallery:detail", "gallery:file", "gallery:thumbnail"):
        assert viewer_client.get(reverse(name, args=[shared.pk])).status_code == 404, name
    # The viewer's own job page and their result's page: the input is not shown any more.
    result = Image.objects.get(job=job)
    for page in (job.get_absolute_url(), result.get_absolute_url()):
        html = viewer_client.get(page).content.decode()
        assert "/media/signed/" not in html, page
        assert reverse("gallery:detail", args=[shared.pk]) not in html, page
        assert reverse("gallery:thumbnail", args=[shared.pk]) not in html, page
        assert "An image you can no longer see" in html, page
    # Nor can it be run again.
    viewer_client.post(reverse("jobs:retry", args=[job.pk]))
    assert Job.objects.filter(owner=viewer).count() == 1


def test_pages_show_an_input_image_as_the_image_never_as_its_link(
    owner, team, viewer, viewer_client, monkeypatch
):
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    shared = JobResultFactory(owner=owner, team=team)
    job = upscale(viewer_client, shared)
    assert signed_link_name(job.input["image"]) == shared.file.name
    html = viewer_client.get(job.get_absolute_url()).content.decode()
    assert "/media/signed/" not in html
    assert f'href="{reverse("gallery:detail", args=[shared.pk])}"' in html
    assert f'src="{reverse("gallery:thumbnail", args=[shared.pk])}"' in html
    # The result's page, and its zip's recipes.json.
    result = JobResultFactory(
        owner=viewer, endpoint="utils/upscale", body=job.input, seed=None, parent=shared
    )
    html = viewer_client.get(result.get_absolute_url()).content.decode()
    assert "/media/signed/" not in html
    assert f'src="{reverse("gallery:thumbnail", args=[shared.pk])}"' in html
    archive = viewer_client.get(reverse("gallery:zip") + f"?ids={result.pk}")
    assert b"/media/signed/" not in b"".join(archive.streaming_content)


def test_links_are_minted_as_the_job_is_sent(owner, studio_on_engine, monkeypatch):
    """A job that waited in the queue past the links' life is sent with fresh ones, for its
    owner; a retry of that submit sends the very same body (its Idempotency-Key's)."""
    source = JobResultFactory(owner=owner)
    now = time.time()
    monkeypatch.setattr("django.core.signing.time.time", lambda: now - MEDIA_LINK_MAX_AGE - 60)
    stale = signed_media_url(source.file.name, owner.pk)
    monkeypatch.undo()
    job = Job.objects.create(
        owner=owner, endpoint="utils/upscale", input={"image": stale, "model": "Real-ESRGAN"}
    )
    assert read_signed_value(stale.rsplit("/", 1)[1]) is None  # expired
    # The follower waits until both submits are done (it would poll the job meanwhile).
    monkeypatch.setattr("jobs.tasks.follow_jobs.delay", lambda *args: None)
    submit_job(job.pk)
    job.refresh_from_db()
    assert job.status not in (Stage.QUEUED, Stage.SUBMITTING, Stage.FAILED), job.error
    sent = job.input["image"]
    assert sent != stale
    assert read_signed_value(sent.rsplit("/", 1)[1]) == (source.file.name, owner.pk)
    first_upstream = job.upstream_id

    # The worker died after the API took it, before the answer was recorded: sent again.
    Job.objects.filter(pk=job.pk).update(status=Stage.SUBMITTING, upstream_id="")
    submit_job(job.pk)
    job.refresh_from_db()
    assert job.input["image"] == sent
    assert job.upstream_id == first_upstream  # the engine knew the request: the same job
    monkeypatch.undo()
    follow_jobs.delay()
    assert wait_for_job_end(job).status == Stage.SUCCEEDED, job.error


def test_a_job_sent_after_its_owner_lost_the_image_fails_saying_so(
    owner, team, viewer, viewer_client, studio_on_engine, monkeypatch
):
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    shared = JobResultFactory(owner=owner, team=team)
    job = upscale(viewer_client, shared)  # queued (the queue was away, say)
    Membership.objects.filter(team=team, user=viewer).delete()
    monkeypatch.undo()
    submit_job(job.pk)
    job.refresh_from_db()
    assert job.status == Stage.FAILED
    assert job.error == "An image this job uses is gone, or no longer yours to use."
    assert not job.upstream_id
