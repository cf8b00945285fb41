"""Following jobs at scale: one sweep polls every job that is due, then says when to sweep next.

No task sleeps per job. Each followed job carries ``next_poll_at``; a sweep takes the due
ones (oldest first, at most ``FOLLOW_BATCH``), polls them over a small thread pool on one
keep-alive connection pool, and moves each ``next_poll_at`` on: fast at first, backing off
to ``FOLLOW_MAX_INTERVAL``, or as long as a ``Retry-After`` asks. The sweep's caller spaces
sweeps so that polls never exceed ``FOLLOW_MAX_POLLS_PER_SECOND``.

This module decides; it enqueues nothing. What a job needs next (its result saved, its
upstream job cancelled) comes back as a ``FollowUp``, which jobs/tasks.py acts on.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import F, Min
from django.utils import timezone

from jobs import upstream
from jobs.events import publish_job
from jobs.models import FOLLOWED, Job, Stage
from openjourney.catalog import Output, get_endpoint
from openjourney.client import ApiError, JobInfo, NotFound, RateLimited, Unauthorized

logger = logging.getLogger(__name__)
FIRST_POLL_DELAY = 0.25


def poll_interval(poll_count: int) -> float:
    """Seconds to the next poll: 0.25 s, then ×1.6 each time, capped."""
    return min(FIRST_POLL_DELAY * 1.6**poll_count, settings.FOLLOW_MAX_INTERVAL)


class FollowUp(enum.Enum):
    """What a followed job needs next, done by a task."""

    STORE_RESULT = "store-result"  # it succeeded: download and keep its output
    CANCEL_UPSTREAM = "cancel-upstream"  # it failed here while the API still runs it


FollowUpHandler = Callable[[int, FollowUp], None]


@dataclass
class SweepResult:
    polled: int
    next_due_in: float | None  # seconds until the next due job; None when none is followed


def _set(job_id: int, **fields) -> bool:
    """Update a job that is still followed (a cancel may have won meanwhile)."""
    return bool(Job.objects.filter(pk=job_id, status__in=FOLLOWED).update(**fields))


def record_job_info(job: Job, info: JobInfo) -> FollowUp | None:
    """Record what the API said of a followed job; say what it needs next, if anything."""
    now = timezone.now()
    fields: dict = {"poll_count": F("poll_count") + 1, "upstream_status": info.status[:20]}
    if info.steps:
        fields.update(step=info.step, steps=info.steps)
    if info.status == "succeeded":
        if get_endpoint(job.endpoint).output == Output.TEXT:
            fields.update(status=Stage.SUCCEEDED, output_text=info.output or "", finished_at=now)
        elif not info.output:
            fields.update(
                status=Stage.FAILED,
                error="The API said the job succeeded but gave no output.",
                finished_at=now,
            )
        else:
            # attempts counts the saver's tries from here (the submit's are spent).
            fields.update(
                status=Stage.SAVING, output_url=info.output[:2048], next_poll_at=None, attempts=0
            )
    elif info.status == "failed":
        reason = (info.error or "no reason given").strip()
        fields.update(status=Stage.FAILED, error=f"The model failed: {reason}", finished_at=now)
    elif info.status == "cancelled":
        fields.update(status=Stage.CANCELLED, error="Cancelled by the API.", finished_at=now)
    elif info.status in ("starting", "booting", "processing"):
        if now >= deadline_of(job):
            # An upstream job that never ends (stuck, or hanging on purpose) must not keep
            # the studio's job "processing" forever: it fails, and the API is told to stop.
            fields.update(
                status=Stage.FAILED,
                error=f"The API did not finish the job within {_duration()}.",
                finished_at=now,
                next_poll_at=None,
            )
        else:
            fields.update(
                status=info.status,
                next_poll_at=now + timedelta(seconds=poll_interval(job.poll_count + 1)),
            )
    else:
        fields.update(
            status=Stage.FAILED,
            error=f"The API reported an unknown status {info.status!r}.",
            finished_at=now,
            next_poll_at=None,
        )
    if not _set(job.pk, **fields):
        return None  # a cancel won meanwhile
    job.refresh_from_db()
    publish_job(job)
    if job.status == Stage.SAVING:
        return FollowUp.STORE_RESULT
    if job.status == Stage.FAILED and info.status in FOLLOWED:
        return FollowUp.CANCEL_UPSTREAM
    return None


def deadline_of(job: Job):
    """When the studio stops waiting for the API to finish ``job``."""
    return (job.submitted_at or job.created_at) + timedelta(
        seconds=settings.FOLLOW_DEADLINE_SECONDS
    )


def _duration() -> str:
    seconds = settings.FOLLOW_DEADLINE_SECONDS
    if seconds % 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = seconds // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def apply_poll_error(job: Job, error: ApiError) -> None:
    """A failed poll: back off, honour Retry-After, and give up at the deadline."""
    now = timezone.now()
    deadline = deadline_of(job)
    if isinstance(error, NotFound):
        _set(
            job.pk,
            status=Stage.FAILED,
            error="The API no longer knows this job (it answered 404).",
            finished_at=now,
        )
    elif isinstance(error, Unauthorized):
        _set(
            job.pk,
            status=Stage.FAILED,
            error="The API refused the studio's token while following the job.",
            finished_at=now,
        )
    elif now >= deadline:
        _set(
            job.pk,
            status=Stage.FAILED,
            error=f"The API did not finish the job in time ({error}).",
            finished_at=now,
        )
    else:
        wait = poll_interval(job.poll_count + 1)
        if isinstance(error, RateLimited):
            wait = max(wait, error.retry_after)
        _set(
            job.pk,
            poll_count=F("poll_count") + 1,
            next_poll_at=now + timedelta(seconds=wait),
        )
        return
    job.refresh_from_db()
    publish_job(job)


def _poll(job: Job) -> tuple[Job, JobInfo | ApiError]:
    try:
        return job, upstream.get_client(job.team).get_job(job.upstream_id, retries=0)
    except ApiError as error:
        return job, error
    finally:
        close_old_connections()


def sweep(follow_up: FollowUpHandler, executor: ThreadPoolExecutor | None = None) -> SweepResult:
    """Poll every followed job that is due (up to the batch size), once.

    ``follow_up(job_id, what)`` is called for each job that needs more, as soon as it does.
    """
    now = timezone.now()
    due = list(
        Job.objects.filter(status__in=FOLLOWED, next_poll_at__lte=now)
        .exclude(upstream_id="")
        .select_related("team")
        .order_by("next_poll_at")[: settings.FOLLOW_BATCH]
    )
    if due:
        own = executor is None
        pool = executor or ThreadPoolExecutor(max_workers=settings.FOLLOW_CONCURRENCY)
        try:
            for job, outcome in pool.map(_poll, due):
                if isinstance(outcome, JobInfo):
                    step = record_job_info(job, outcome)
                    if step is not None:
                        follow_up(job.pk, step)
                else:
                    apply_poll_error(job, outcome)
        finally:
            if own:
                pool.shutdown(wait=True)
    soonest = Job.objects.filter(status__in=FOLLOWED).aggregate(at=Min("next_poll_at"))["at"]
    if soonest is None:
        followed = Job.objects.filter(status__in=FOLLOWED).exists()
        return SweepResult(len(due), 0.5 if followed else None)
    return SweepResult(len(due), max(0.0, (soonest - timezone.now()).total_seconds()))
