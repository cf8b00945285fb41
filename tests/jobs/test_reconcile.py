"""The reconciler takes up jobs whose messages were lost, and only those."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import tasks
from jobs.models import Job, Stage
from jobs.tasks import apply_job_info
from openjourney.client import JobInfo, RateLimited

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """What the code under test would enqueue, instead of enqueueing it."""
    calls: list[tuple[str, int]] = []
    for name in ("submit_job", "store_result", "follow_jobs"):
        task = getattr(tasks, name)
        monkeypatch.setattr(task, "delay", lambda *a, n=name: calls.append((n, *a)))
        monkeypatch.setattr(
            task, "apply_async", lambda args=(), n=name, **kw: calls.append((n, *args))
        )
    return calls


def old_job(owner, **fields) -> Job:
    """A job created two minutes ago, untouched since."""
    long_ago = timezone.now() - timedelta(minutes=2)
    job = Job.objects.create(
        owner=owner, endpoint="flux/dev", input={"prompt": "a", "canvas": "Square"}, **fields
    )
    Job.objects.filter(pk=job.pk).update(created_at=long_ago, updated_at=long_ago)
    job.refresh_from_db()
    return job


class RateLimitedClient:
    def submit(self, *args, **kwargs):
        raise RateLimited("busy", retry_after=5)


def test_a_job_put_back_by_a_429_is_not_taken_for_lost(owner, sent, settings, monkeypatch):
    settings.JOBS_STALE_SECONDS = 60
    job = old_job(owner)
    monkeypatch.setattr("jobs.upstream.get_client", lambda team=None: RateLimitedClient())
    tasks.submit_job(job.pk)
    assert sent == [("submit_job", job.pk)]  # its own retry, after Retry-After
    sent.clear()
    assert tasks.reconcile_jobs() == {"submit": 0, "save": 0}
    assert sent == []


def test_a_job_handed_to_the_saver_is_not_taken_for_lost(owner, sent, settings):
    settings.JOBS_STALE_SECONDS = 60
    job = old_job(owner, status=Stage.PROCESSING, upstream_id="abc", attempts=4)
    apply_job_info(job, JobInfo(id="abc", status="succeeded", output="http://x/engine/files/a"))
    assert Job.objects.get(pk=job.pk).status == Stage.SAVING
    assert Job.objects.get(pk=job.pk).attempts == 0  # the saver's own tries from here
    assert sent == [("store_result", job.pk)]
    sent.clear()
    assert tasks.reconcile_jobs() == {"submit": 0, "save": 0}
    assert sent == []


def test_jobs_untouched_past_the_limit_are_taken_up_again(owner, sent, settings):
    settings.JOBS_STALE_SECONDS = 60
    queued = old_job(owner)
    submitting = old_job(owner, status=Stage.SUBMITTING)
    saving = old_job(owner, status=Stage.SAVING, output_url="http://x/engine/files/a")
    fresh = Job.objects.create(owner=owner, endpoint="flux/dev")
    assert tasks.reconcile_jobs() == {"submit": 2, "save": 1}
    assert sorted(sent) == sorted(
        [("submit_job", queued.pk), ("submit_job", submitting.pk), ("store_result", saving.pk)]
    )
    assert fresh.pk not in {pk for _, pk in sent}
    # Taken up once: the next round leaves them to the tasks just sent.
    sent.clear()
    assert tasks.reconcile_jobs() == {"submit": 0, "save": 0}
