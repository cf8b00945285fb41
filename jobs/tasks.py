"""Celery tasks of the studio's jobs: submit, follow, store; and a reconciler for lost work.

Every task takes a job id, re-reads the row, and does nothing when the job has moved on,
so a message delivered twice is harmless. This is the one module that enqueues them: the
follower (jobs/follow.py) says what a job needs next, ``follow_up`` sends it.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from datetime import timedelta

import redis
from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from gallery.links import MediaGone, fresh_media_links
from gallery.models import Image
from gallery.services import InvalidResult, store_job_result
from jobs import follow, upstream
from jobs.events import publish_job
from jobs.follow import FollowUp
from jobs.models import FOLLOWED, Job, Stage
from openjourney.client import (
    ApiError,
    DownloadTooSlow,
    JobInfo,
    MalformedResponse,
    RateLimited,
    ServerError,
    SubmitUncertain,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)

logger = logging.getLogger(__name__)
MAX_SUBMIT_ATTEMPTS = 6
SENDABLE = (Stage.QUEUED, Stage.SUBMITTING)
MAX_SAVE_ATTEMPTS = 5
FOLLOW_LEASE_MS = 15_000
# The database went away for a moment (a restart, a fail-over, a dropped connection): the
# task runs again shortly, on a fresh connection (Celery's Django fixup drops the broken
# one). Every step is safe to run twice, so a retry picks up where the error struck.
DATABASE_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": False,
    "max_retries": 10,
}


def _fail(job_id: int, message: str) -> None:
    now = timezone.now()
    updated = (
        Job.objects.filter(pk=job_id)
        .exclude(status__in=(Stage.SUCCEEDED, Stage.FAILED, Stage.CANCELLED))
        .update(status=Stage.FAILED, error=message, finished_at=now, next_poll_at=None)
    )
    if updated:
        publish_job(Job.objects.get(pk=job_id))


def validation_sentence(error: ValidationFailed) -> str:
    if not error.errors:
        return f"The API refused the request: {error}"
    parts = [f"{field}: {' '.join(messages)}" for field, messages in sorted(error.errors.items())]
    return "The API refused the request. " + "; ".join(parts)


def follow_up(job_id: int, step: FollowUp) -> None:
    """Enqueue what the follower decided a job needs next."""
    if step is FollowUp.STORE_RESULT:
        store_result.delay(job_id)
    elif step is FollowUp.CANCEL_UPSTREAM:
        cancel_upstream.delay(job_id)


def apply_job_info(job: Job, info: JobInfo) -> None:
    """Record what the API said of a followed job, and send what it needs next."""
    step = follow.record_job_info(job, info)
    if step is not None:
        follow_up(job.pk, step)


def _start_attempt(job: Job) -> bool:
    """Count one submit attempt of ``job`` and settle the body it sends (``job.input``).

    The first attempt signs the job's image links afresh, for its owner: they expire in
    minutes, and the job may have waited for the queue longer (Redis away). That body is
    kept as the job's input, so that every retry sends the very same one, as its
    Idempotency-Key requires; the ``attempts=0`` condition lets one run of a message
    delivered twice do it. False when the job is not to be sent after all.
    """
    if job.attempts == 0:
        fields = [spec.name for spec in job.spec.image_fields]
        try:
            body = fresh_media_links(job.input, fields, job.owner_id)
        except MediaGone as gone:
            _fail(job.pk, str(gone))
            return False
        if Job.objects.filter(pk=job.pk, attempts=0, status__in=SENDABLE).update(
            input=body, status=Stage.SUBMITTING, attempts=1, enqueue_failed_at=None
        ):
            job.input, job.attempts = body, 1
            return True
        job.refresh_from_db()  # a twin run signed them: this one sends its body again
        if job.status not in SENDABLE:
            return False
    Job.objects.filter(pk=job.pk).update(
        status=Stage.SUBMITTING, attempts=F("attempts") + 1, enqueue_failed_at=None
    )
    job.attempts += 1
    return True


@shared_task(acks_late=True, **DATABASE_RETRY)
def submit_job(job_id: int) -> None:
    """Send a queued job to the API once; a retry after a crash reuses its Idempotency-Key."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status not in SENDABLE or not _start_attempt(job):
        return
    attempt = job.attempts
    try:
        client = upstream.get_client(job.team)
        info = client.submit(job.endpoint, job.input, idempotency_key=str(job.submit_key))
    except RateLimited as error:
        Job.objects.filter(pk=job_id, status=Stage.SUBMITTING).update(status=Stage.QUEUED)
        submit_job.apply_async((job_id,), countdown=max(1.0, error.retry_after))
        return
    except ValidationFailed as error:
        _fail(job_id, validation_sentence(error))
        return
    except Unauthorized:
        if job.team_id is not None and job.team.api_token_encrypted:
            _fail(
                job_id,
                "The API refused the team's own token (or it can no longer be read): "
                "a team owner can enter it again in the team's settings.",
            )
        else:
            _fail(job_id, "The API refused the studio's token. Check OPENJOURNEY_API_TOKEN.")
        return
    except (Unavailable, SubmitUncertain, ServerError, MalformedResponse) as error:
        if attempt >= MAX_SUBMIT_ATTEMPTS:
            _fail(job_id, f"The API could not take the job: {error}")
        else:
            # Same Idempotency-Key next time: a submit that did arrive is found, not repeated.
            submit_job.apply_async((job_id,), countdown=min(2**attempt, 30))
        return
    except ApiError as error:
        _fail(job_id, f"The API refused the job: {error}")
        return

    now = timezone.now()
    status = info.status if info.status in FOLLOWED else Stage.STARTING
    Job.objects.filter(pk=job_id, status=Stage.SUBMITTING).update(
        status=status,
        upstream_id=info.id[:100],
        upstream_status=info.status[:20],
        submitted_at=now,
        next_poll_at=now + timedelta(seconds=0.25),
        seed=info.seed if job.seed is None and info.seed is not None else job.seed,
    )
    job.refresh_from_db()
    publish_job(job)
    if info.is_terminal and job.status in FOLLOWED:
        apply_job_info(job, info)
    else:
        follow_jobs.delay()


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)


def follow_lease_key() -> str:
    """One follower per installation and database: studios (or test runs) sharing a Redis
    don't collide, even two whose databases have the same name on different servers."""
    name = str(connection.settings_dict.get("NAME", ""))
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:12]
    return f"{settings.STUDIO_INSTANCE}:studio:follow:lease:{digest}"


@shared_task
def follow_jobs(chain: str | None = None) -> None:
    """Poll the jobs that are due, then re-schedule itself while any job is followed.

    One chain runs at a time, holding a lease in Redis; a call without ``chain`` (from a
    submit or the scheduler) starts one only when none holds the lease, so a chain whose
    message was lost is replaced within the lease's life.
    """
    store = _redis()
    lease = follow_lease_key()
    if chain is None:
        chain = uuid.uuid4().hex
        if not store.set(lease, chain, nx=True, px=FOLLOW_LEASE_MS):
            return
    elif store.get(lease) != chain.encode() and not store.set(
        lease, chain, nx=True, px=FOLLOW_LEASE_MS
    ):
        # Another chain holds the lease. (A lease that vanished — Redis restarted or
        # flushed — is taken back, so following never stops for want of a kick.)
        return
    store.pexpire(lease, FOLLOW_LEASE_MS)

    started = time.monotonic()
    try:
        result = follow.sweep(follow_up)
    except (OperationalError, InterfaceError):
        # The database went away for a moment: this chain (it keeps the lease) tries again.
        logger.warning("follower: the database is unavailable; sweeping again in 2 s")
        follow_jobs.apply_async((chain,), countdown=2)
        return
    if result.next_due_in is None:
        if store.get(lease) == chain.encode():
            store.delete(lease)
        # A job may have arrived between the sweep and the delete: look once more.
        if Job.objects.filter(status__in=FOLLOWED).exists():
            follow_jobs.delay()
        return
    # Space sweeps so that polls stay under the configured rate.
    spent = time.monotonic() - started
    min_gap = result.polled / settings.FOLLOW_MAX_POLLS_PER_SECOND - spent
    countdown = max(0.05, min_gap, min(result.next_due_in, 1.0))
    follow_jobs.apply_async((chain,), countdown=countdown)


@shared_task(acks_late=True, **DATABASE_RETRY)
def store_result(job_id: int) -> None:
    """Download a finished job's output, store it and make it a gallery image."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status != Stage.SAVING:
        return
    if hasattr(job, "image"):
        _finish(job)
        return
    Job.objects.filter(pk=job_id).update(attempts=F("attempts") + 1)
    try:
        content, content_type = upstream.get_client(job.team).download(
            job.output_url, max_bytes=settings.STUDIO_MAX_RESULT_BYTES
        )
        store_job_result(job, content, content_type)
    except (Unavailable, ServerError) as error:
        if job.attempts + 1 >= MAX_SAVE_ATTEMPTS:
            _fail(job_id, str(error))  # the client's sentence says what failed
        else:
            store_result.apply_async((job_id,), countdown=min(2 ** (job.attempts + 1), 30))
        return
    except (MalformedResponse, InvalidResult, DownloadTooSlow) as error:
        _fail(job_id, str(error))
        return
    except IntegrityError:
        # Another run of this task (a redelivered or reconciled message) saved the image
        # first; ours was rolled back and its files removed (gallery.services.create_image).
        if not Image.objects.filter(job_id=job_id).exists():
            raise
    _finish(job)


def _finish(job: Job) -> None:
    updated = Job.objects.filter(pk=job.pk, status=Stage.SAVING).update(
        status=Stage.SUCCEEDED, finished_at=timezone.now()
    )
    if updated:
        job.refresh_from_db()
        publish_job(job)
        # After the commit (here at once; never in a test's rolled-back transaction), and a
        # broker away must not undo a saved result: the engine's TTL remains.
        transaction.on_commit(lambda: release_upstream_output.delay(job.pk), robust=True)


@shared_task
def release_upstream_output(job_id: int) -> None:
    """Have our engine remove its copy of a stored result (its files are a delivery cache:
    kept until then, or its ENGINE_OUTPUT_TTL). The hosted service is sent nothing."""
    job = Job.objects.filter(pk=job_id).select_related("team").first()
    if job is None or not job.output_url:
        return
    try:
        upstream.get_client(job.team).release_output(job.output_url)
    except ApiError as error:
        # Gone already (404), or the engine is away: its TTL removes the file.
        logger.info("release of job %s's upstream output not possible: %s", job_id, error)


@shared_task
def cancel_upstream(job_id: int) -> None:
    """Ask the API to cancel (our engine can; the hosted service drops the result)."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not job.upstream_id:
        return
    try:
        upstream.get_client(job.team).cancel(job.upstream_id)
    except ApiError as error:
        logger.info("upstream cancel of job %s not possible: %s", job_id, error)


@shared_task
def reconcile_jobs() -> dict[str, int]:
    """Find jobs whose messages were lost (a killed worker, a flushed Redis) and go on.

    Jobs whose submit never reached the queue (Redis was away when they were created:
    ``enqueue_failed_at``) are sent in the first round once it answers, without waiting
    to look stale.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOBS_STALE_SECONDS)
    counts = {"submit": 0, "save": 0}
    unsent = Q(status=Stage.QUEUED, enqueue_failed_at__isnull=False)
    for job_id in Job.objects.filter(
        Q(status__in=SENDABLE, updated_at__lt=stale) | unsent
    ).values_list("pk", flat=True)[:500]:
        Job.objects.filter(pk=job_id).update(updated_at=now, enqueue_failed_at=None)
        submit_job.delay(job_id)
        counts["submit"] += 1
    for job_id in Job.objects.filter(status=Stage.SAVING, updated_at__lt=stale).values_list(
        "pk", flat=True
    )[:500]:
        Job.objects.filter(pk=job_id).update(updated_at=now)
        store_result.delay(job_id)
        counts["save"] += 1
    Job.objects.filter(status__in=FOLLOWED, next_poll_at__isnull=True).update(next_poll_at=now)
    if Job.objects.filter(status__in=FOLLOWED).exists():
        follow_jobs.delay()
    return counts
