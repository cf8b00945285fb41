"""The whole path: form → job → Celery worker → the real engine over HTTP → stored image."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image as PILImage

from gallery.models import Image
from jobs.models import Job, Stage
from tests.conftest import wait_for, wait_for_job_end

pytestmark = pytest.mark.django_db(transaction=True)


def finished(job: Job, timeout: float = 30) -> Job:
    return wait_for_job_end(job, timeout)


def test_submit_follow_store_show(owner_client, owner, studio_on_engine):
    response = owner_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a red fox in the snow", "canvas": "Landscape", "count": 1},
    )
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    assert job.seed is not None and job.input["seed"] == job.seed  # blank seed filled in

    finished(job)
    assert job.status == Stage.SUCCEEDED, job.error
    assert job.upstream_id and job.submitted_at and job.finished_at

    image = Image.objects.get(job=job)
    assert (image.width, image.height) == (1344, 768)
    assert image.format == "png" and image.content_type == "image/png"
    assert len(image.checksum) == 64 and image.size_bytes > 0
    assert image.prompt == "a red fox in the snow"
    assert image.seed == job.seed
    assert image.params["canvas"] == "Landscape"
    thumb = PILImage.open(image.thumbnail.open("rb"))
    assert thumb.format == "WEBP" and max(thumb.size) <= 512

    card = owner_client.get(reverse("jobs:card", args=[job.pk]), headers={"HX-Request": "true"})
    assert card.status_code == 286  # polling stops: the job has ended
    assert reverse("gallery:thumbnail", args=[image.pk]) in card.content.decode()
    original = owner_client.get(reverse("gallery:file", args=[image.pk]))
    assert b"".join(original.streaming_content).startswith(b"\x89PNG")


def test_htmx_submit_returns_the_job_cards_at_once(owner_client, studio_on_engine):
    response = owner_client.post(
        reverse("create:create-endpoint", args=["sd/3.5/large"]),
        {"prompt": "a castle", "canvas": "Square", "count": 3, "seed": 10, "seed_locked": "on"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    jobs = list(Job.objects.order_by("seed"))
    assert [job.seed for job in jobs] == [10, 11, 12]
    assert len({job.batch for job in jobs}) == 1
    html = response.content.decode()
    for job in jobs:
        assert f'id="job-{job.pk}"' in html
        assert f"sse:job-{job.pk}" in html
    for job in jobs:
        assert finished(job).status == Stage.SUCCEEDED


def test_random_seeds_without_lock(owner_client, studio_on_engine, monkeypatch):
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    owner_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a castle", "canvas": "Square", "count": 4},
    )
    seeds = [job.seed for job in Job.objects.all()]
    assert len(seeds) == 4 and len(set(seeds)) == 4


def test_endpoint_without_seed_keeps_the_engines(owner_client, studio_on_engine):
    owner_client.post(reverse("create:create-endpoint", args=["flux/schnell"]), {"prompt": "a"})
    job = finished(Job.objects.get())
    assert job.status == Stage.SUCCEEDED
    assert "seed" not in job.input
    assert job.seed is not None  # reported by the engine


def test_svg_result_stays_svg(owner_client, studio_on_engine):
    owner_client.post(
        reverse("create:create-endpoint", args=["re-craft/svg"]),
        {"prompt": "a fox logo", "canvas": "Square", "style": "line_art", "model": "v3"},
    )
    job = finished(Job.objects.get())
    assert job.status == Stage.SUCCEEDED, job.error
    image = job.image
    assert image.format == "svg" and image.content_type == "image/svg+xml"
    assert (image.width, image.height) == (1024, 1024)
    response = owner_client.get(reverse("gallery:file", args=[image.pk]))
    assert response["Content-Type"] == "image/svg+xml"
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_cancel_stops_a_job(owner_client, studio_on_engine):
    from engine.models import Fault

    Fault.objects.create(kind="job_hangs", path="flux/dev")
    owner_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a", "canvas": "Square"},
    )
    job = Job.objects.get()
    wait_for(lambda: Job.objects.get(pk=job.pk).status == Stage.PROCESSING, 20)
    response = owner_client.post(reverse("jobs:cancel", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Stage.CANCELLED
    from engine.models import EngineJob

    wait_for(lambda: EngineJob.objects.get(pk=job.upstream_id).status == "cancelled", 10)


def test_retry_makes_a_new_job_with_the_same_input(owner_client, studio_on_engine):
    owner_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a", "canvas": "Square", "seed": 99},
    )
    first = finished(Job.objects.get())
    response = owner_client.post(reverse("jobs:retry", args=[first.pk]))
    second = Job.objects.exclude(pk=first.pk).get()
    assert response["Location"] == second.get_absolute_url()
    assert second.input == first.input
    finished(second)
    # Same seed, same bytes from the engine. The stored files (and so Image.checksum) differ
    # only in the recipe chunk's lineage, which names each file's own job.
    from gallery.recipes import content_checksum

    with first.image.file.open("rb") as a, second.image.file.open("rb") as b:
        assert content_checksum(a.read()) == content_checksum(b.read())


def test_upstream_failure_reads_as_a_sentence(owner_client, studio_on_engine):
    from engine.models import Fault

    Fault.objects.create(kind="job_fails", path="flux/dev")
    owner_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a", "canvas": "Square"},
    )
    job = finished(Job.objects.get())
    assert job.status == Stage.FAILED
    assert job.error == "The model failed: The job failed on purpose (fault switch)."


def test_other_users_job_is_404(client, outsider, owner_client, studio_on_engine, monkeypatch):
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    owner_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a", "canvas": "Square"},
    )
    job = Job.objects.get()
    client.force_login(outsider)
    for name in ("jobs:detail", "jobs:card"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    for name in ("jobs:cancel", "jobs:retry"):
        assert client.post(reverse(name, args=[job.pk])).status_code == 404
    assert Job.objects.count() == 1


def _png(size=(64, 64), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_retry_of_a_utility_job_signs_its_image_link_afresh(owner_client, owner, monkeypatch):
    from gallery.services import create_image

    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    image = create_image(owner, _png())
    owner_client.post(
        reverse("create:create-endpoint", args=["utils/upscale"]),
        {"image_source": "gallery", "image_image": image.pk},
    )
    first = Job.objects.get()
    owner_client.post(reverse("jobs:retry", args=[first.pk]))
    second = Job.objects.exclude(pk=first.pk).get()
    assert second.input["model"] == first.input["model"]
    assert "/media/signed/" in second.input["image"]
    assert second.parent_image == image


def test_retry_is_refused_when_the_image_it_used_is_gone(owner_client, owner, monkeypatch):
    from gallery.services import create_image

    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    image = create_image(owner, _png())
    owner_client.post(
        reverse("create:create-endpoint", args=["utils/upscale"]),
        {"image_source": "gallery", "image_image": image.pk},
    )
    first = Job.objects.get()
    image.delete()
    response = owner_client.post(reverse("jobs:retry", args=[first.pk]), follow=True)
    assert "no longer yours" in response.content.decode()
    assert Job.objects.count() == 1


def test_retry_keeps_the_team_while_the_owner_may_generate_into_it(
    owner_client, owner, team, monkeypatch
):
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    owner_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a", "canvas": "Square", "save_to": str(team.pk)},
    )
    first = Job.objects.get()
    assert first.team == team
    owner_client.post(reverse("jobs:retry", args=[first.pk]))
    assert Job.objects.exclude(pk=first.pk).get().team == team
