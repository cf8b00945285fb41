"""The follower chain: one per database, held by a Redis lease that survives losing Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.urls import reverse
from django.utils import timezone

from jobs import tasks
from jobs.follow import poll_interval
from jobs.models import Job, Stage
from jobs.tasks import apply_job_info
from openjourney.client import JobInfo

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(settings, redis_url):
    settings.REDIS_URL = redis_url
    client = redis.Redis.from_url(redis_url)
    client.delete(tasks.follow_lease_key())
    yield client
    client.delete(tasks.follow_lease_key())


@pytest.fixture
def scheduled(monkeypatch):
    calls = []
    monkeypatch.setattr(
        tasks.follow_jobs, "apply_async", lambda args, countdown: calls.append((args, countdown))
    )
    monkeypatch.setattr(tasks.follow_jobs, "delay", lambda *args: calls.append((args, None)))
    return calls


@pytest.fixture
def followed_job(owner):
    # Not due yet: the sweep polls nothing, so no upstream is needed.
    return Job.objects.create(
        owner=owner,
        endpoint="flux/dev",
        status=Stage.PROCESSING,
        upstream_id="abc",
        next_poll_at=timezone.now() + timedelta(seconds=3),
    )


def test_a_kick_starts_a_chain_that_reschedules_itself(store, scheduled, followed_job):
    tasks.follow_jobs()
    chain = store.get(tasks.follow_lease_key()).decode()
    assert len(scheduled) == 1
    args, countdown = scheduled[0]
    assert args == (chain,)
    assert 0.05 <= countdown <= 1.0


def test_a_kick_does_nothing_while_another_chain_runs(store, scheduled, followed_job):
    store.set(tasks.follow_lease_key(), "other-chain")
    tasks.follow_jobs()
    assert scheduled == []
    assert store.get(tasks.follow_lease_key()) == b"other-chain"


def test_a_chain_stops_when_another_holds_the_lease(store, scheduled, followed_job):
    store.set(tasks.follow_lease_key(), "other-chain")
    tasks.follow_jobs("my-chain")
    assert scheduled == []


def test_a_chain_takes_back_a_lease_that_vanished(store, scheduled, followed_job):
    # Redis restarted or was flushed between two links of the chain.
    tasks.follow_jobs("my-chain")
    assert store.get(tasks.follow_lease_key()) == b"my-chain"
    assert scheduled[0][0] == ("my-chain",)


def test_the_chain_ends_and_frees_the_lease_when_nothing_is_followed(store, scheduled):
    tasks.follow_jobs()
    assert store.get(tasks.follow_lease_key()) is None
    assert scheduled == []


def test_poll_interval_starts_fast_and_backs_off_to_the_cap(settings):
    settings.FOLLOW_MAX_INTERVAL = 5
    intervals = [poll_interval(n) for n in range(12)]
    assert intervals[0] == 0.25
    assert intervals == sorted(intervals)
    assert intervals[-1] == 5


def test_a_job_the_api_keeps_processing_past_the_deadline_fails(owner, settings, monkeypatch):
    settings.FOLLOW_DEADLINE_SECONDS = 60
    cancelled = []
    monkeypatch.setattr(tasks.cancel_upstream, "delay", lambda pk: cancelled.append(pk))
    job = Job.objects.create(
        owner=owner,
        endpoint="flux/dev",
        status=Stage.PROCESSING,
        upstream_id="abc",
        submitted_at=timezone.now() - timedelta(seconds=61),
        next_poll_at=timezone.now(),
    )
    apply_job_info(job, JobInfo(id="abc", status="processing"))
    job.refresh_from_db()
    assert job.status == Stage.FAILED
    assert job.error == "The API did not finish the job within 1 minute."
    assert job.finished_at is not None and job.next_poll_at is None
    assert cancelled == [job.pk]  # the upstream is told to stop


def test_a_job_still_within_its_deadline_is_polled_again(owner, settings):
    settings.FOLLOW_DEADLINE_SECONDS = 60
    job = Job.objects.create(
        owner=owner,
        endpoint="flux/dev",
        status=Stage.STARTING,
        upstream_id="abc",
        submitted_at=timezone.now() - timedelta(seconds=30),
        next_poll_at=timezone.now(),
    )
    apply_job_info(job, JobInfo(id="abc", status="processing"))
    job.refresh_from_db()
    assert job.status == Stage.PROCESSING
    assert job.next_poll_at > timezone.now()


def test_an_unknown_status_fails_the_job_for_good(owner):
    job = Job.objects.create(
        owner=owner, endpoint="flux/dev", status=Stage.PROCESSING, upstream_id="abc"
    )
    apply_job_info(job, JobInfo(id="abc", status="exploded"))
    job.refresh_from_db()
    assert job.status == Stage.FAILED
    assert job.error == "The API reported an unknown status 'exploded'."
    assert job.finished_at is not None


def test_the_models_steps_move_the_progress_bar_while_processing(
    owner, owner_client, settings, redis_url
):
    from openjourney.client import JobInfo

    settings.REDIS_URL = redis_url
    job = Job.objects.create(
        owner=owner, endpoint="flux/dev", status=Stage.BOOTING, upstream_id="abc"
    )
    without_steps = Job(status=Stage.PROCESSING).progress
    payload = {"id": "abc", "status": "processing", "metrics": {"step": 3, "steps": 12}}
    apply_job_info(job, JobInfo.from_payload(payload))
    job.refresh_from_db()
    assert (job.status, job.step, job.steps) == (Stage.PROCESSING, 3, 12)
    early = job.progress
    page = owner_client.get(reverse("jobs:card", args=[job.pk])).content.decode()
    assert "Step 3 of 12" in page
    assert f'aria-valuenow="{early}"' in page

    payload["metrics"] = {"step": 11, "steps": 12}
    apply_job_info(job, JobInfo.from_payload(payload))
    job.refresh_from_db()
    assert (
        Job(status=Stage.BOOTING).progress
        < early
        < job.progress
        < Job(status=Stage.SAVING).progress
    )
    assert without_steps == 60  # an API without steps: the stage alone, as before


def test_job_info_reads_steps_only_when_they_make_sense():
    from openjourney.client import JobInfo

    def parsed(metrics):
        info = JobInfo.from_payload({"id": "a", "status": "processing", "metrics": metrics})
        return info.step, info.steps

    assert parsed({"predict_time": None}) == (None, None)
    assert parsed({"step": 2, "steps": 4}) == (2, 4)
    assert parsed({"step": 9, "steps": 4}) == (4, 4)
    assert parsed({"step": 0, "steps": 0}) == (None, None)
    assert parsed({"step": "2", "steps": 4}) == (None, None)
    assert parsed({"step": True, "steps": 4}) == (None, None)
    assert parsed("fast") == (None, None)
