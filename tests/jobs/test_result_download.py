"""The studio's download of a finished job's result ends within its total deadline."""

from __future__ import annotations

import pytest

from gallery.models import Image
from jobs.models import Job, Stage
from jobs.tasks import store_result
from tests.slow_http import SlowServer


@pytest.fixture
def slow_api(settings):
    """An "API" whose result files arrive a byte every 0.1 s (8 s at most)."""
    with SlowServer(interval=0.1, max_seconds=8) as slow:
        settings.OPENJOURNEY_API_URL = slow.origin + "/engine"
        settings.OPENJOURNEY_API_TOKEN = "oje_slow"
        yield slow


def saving_job(owner, url: str) -> Job:
    return Job.objects.create(
        owner=owner,
        endpoint="flux/schnell",
        input={"prompt": "a lighthouse"},
        status=Stage.SAVING,
        output_url=url,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["body", "headers"])
def test_a_result_that_arrives_a_byte_at_a_time_fails_the_job_at_the_deadline(
    owner, settings, slow_api, kind
):
    settings.STUDIO_RESULT_TIMEOUT = 1
    job = saving_job(owner, slow_api.url(kind, "out.png"))

    store_result(job.pk)

    job.refresh_from_db()
    host = slow_api.origin.removeprefix("http://")
    assert (job.status, job.error) == (
        Stage.FAILED,
        f"The result at {host} took longer than 1 s to download.",
    )
    assert not Image.objects.filter(job=job).exists()
    assert slow_api.hits == [f"/{kind}/out.png"]  # not tried again: the allowance is spent


@pytest.mark.django_db
def test_a_result_within_the_deadline_is_saved(owner, settings, slow_api):
    slow_api.max_seconds = 0  # all at once
    job = saving_job(owner, slow_api.url("body", "out.png"))

    store_result(job.pk)

    job.refresh_from_db()
    assert job.status == Stage.SUCCEEDED
    assert Image.objects.filter(job=job).exists()
