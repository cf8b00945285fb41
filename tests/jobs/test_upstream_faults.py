"""The upstream misbehaving, through the engine's fault switches: every job ends in the
right state with a sentence a person can read, and none is sent to the API twice.

A real worker (threads, on Redis) runs the job path against the real engine on the live
server. "Sent twice" means two upstream jobs for one studio job: every POST of a job
carries its Idempotency-Key, and the engine creates at most one job per key, so a submit
whose outcome was unknown is reconciled, not repeated.
"""

from __future__ import annotations

import httpx
import pytest

from engine.models import EngineJob, Fault
from gallery.models import Image
from jobs.models import Job, Stage
from jobs.services import create_jobs
from openjourney.catalog import get_endpoint
from tests.conftest import wait_for, wait_for_job_end
from tests.jobs.faults import engine_jobs_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def posts(studio_on_engine, monkeypatch):
    """The Idempotency-Key of every submit the studio sends, as its client sends it."""
    sent: list[str | None] = []
    send = httpx.Client.send

    def recording_send(self, request, **kwargs):
        if request.method == "POST" and not request.url.path.endswith("/cancel"):
            sent.append(request.headers.get("Idempotency-Key"))
        return send(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", recording_send)
    return sent


def run_job(owner, timeout: float = 60) -> Job:
    [job] = create_jobs(owner, get_endpoint("flux/schnell"), {"prompt": "a lighthouse"})
    return wait_for_job_end(job, timeout)


def assert_sent_once(job: Job, posts: list, count: int, upstream_jobs: int = 1) -> None:
    assert posts == [str(job.submit_key)] * count
    assert engine_jobs_for(job) == upstream_jobs


def assert_succeeded(job: Job) -> None:
    assert job.status == Stage.SUCCEEDED, job.error
    assert Image.objects.filter(job=job).count() == 1


# --- submits -------------------------------------------------------------------------


def test_429_with_retry_after_on_submit(owner, posts):
    # The client waits out two Retry-Afters itself, then the task puts the job back.
    Fault.objects.create(kind="rate_limit", path="flux/schnell", retry_after=1, remaining=4)
    job = run_job(owner)
    assert_succeeded(job)
    assert_sent_once(job, posts, 5)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_on_submit_is_retried_with_the_same_key(owner, posts, status):
    Fault.objects.create(kind="server_error", path="flux/schnell", status_code=status, remaining=1)
    job = run_job(owner)
    assert_succeeded(job)
    assert_sent_once(job, posts, 2)


def test_a_submit_that_keeps_failing_ends_the_job(owner, posts, monkeypatch):
    monkeypatch.setattr("jobs.tasks.MAX_SUBMIT_ATTEMPTS", 2)
    Fault.objects.create(kind="server_error", path="flux/schnell", status_code=503)
    job = run_job(owner)
    assert job.status == Stage.FAILED
    assert job.error == (
        "The API could not take the job: The engine failed on purpose (fault switch)."
    )
    assert_sent_once(job, posts, 2, upstream_jobs=0)


def test_malformed_json_on_submit(owner, posts):
    Fault.objects.create(kind="malformed_json", path="flux/schnell", remaining=1)
    job = run_job(owner)
    assert_succeeded(job)
    assert_sent_once(job, posts, 2)


def test_a_submit_that_times_out_after_reaching_the_api_is_not_repeated(owner, posts, settings):
    # The engine takes 2.5 s and creates the job; the studio gave up after 1 s. Its retry,
    # with the same key, gets the job the first POST created.
    settings.OPENJOURNEY_TIMEOUT = 1
    Fault.objects.create(kind="slow", path="flux/schnell", delay_ms=2500, remaining=1)
    job = run_job(owner)
    assert_succeeded(job)
    assert_sent_once(job, posts, 2)


# --- following -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "server_error", "status_code": 502, "remaining": 3},
        {"kind": "rate_limit", "retry_after": 1, "remaining": 2},
        {"kind": "malformed_json", "remaining": 2},
        {"kind": "slow", "delay_ms": 2500, "remaining": 1},
    ],
    ids=["502", "429", "malformed-json", "time-out"],
)
def test_polls_that_fail_for_a_while(owner, posts, settings, fault):
    settings.OPENJOURNEY_TIMEOUT = 1
    Fault.objects.create(path="job", method="GET", **fault)
    job = run_job(owner)
    assert_succeeded(job)
    assert_sent_once(job, posts, 1)
    assert Fault.objects.get().remaining == 0  # every firing reached the studio


def test_a_job_that_vanishes_upstream(owner, posts):
    Fault.objects.create(kind="job_vanishes", path="flux/schnell")
    job = run_job(owner)
    assert job.status == Stage.FAILED
    assert job.error == "The API no longer knows this job (it answered 404)."
    assert_sent_once(job, posts, 1)


def test_a_job_that_never_ends_upstream_fails_at_the_deadline(owner, posts, settings):
    settings.FOLLOW_DEADLINE_SECONDS = 3
    Fault.objects.create(kind="job_hangs", path="flux/schnell")
    job = run_job(owner)
    assert job.status == Stage.FAILED
    assert job.error == "The API did not finish the job within 3 seconds."
    assert_sent_once(job, posts, 1)
    wait_for(lambda: EngineJob.objects.get().status == "cancelled", 20)


# --- results ---------------------------------------------------------------------------


def test_an_output_link_that_fails_once(owner, posts):
    Fault.objects.create(kind="output_error", path="files", remaining=1)
    job = run_job(owner)
    assert_succeeded(job)
    assert_sent_once(job, posts, 1)


def test_an_output_link_that_keeps_failing(owner, posts, monkeypatch):
    monkeypatch.setattr("jobs.tasks.MAX_SAVE_ATTEMPTS", 2)
    Fault.objects.create(kind="output_error", path="files")
    job = run_job(owner)
    assert job.status == Stage.FAILED
    assert job.error == "The result could not be downloaded (HTTP 503)."
    assert not Image.objects.exists()
    assert_sent_once(job, posts, 1)


def test_an_output_that_is_not_an_image(owner, posts):
    Fault.objects.create(kind="output_not_image", path="files")
    job = run_job(owner)
    assert job.status == Stage.FAILED
    assert job.error == "The file is not an image the studio can read."
    assert not Image.objects.exists()
    assert_sent_once(job, posts, 1)
