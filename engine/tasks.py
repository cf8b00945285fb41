"""Celery tasks of the engine: run a job to its end; hand stale jobs to a worker again."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import F
from django.utils import timezone

from engine.backends import BackendError
from engine.models import ACTIVE_STATUSES, EngineJob, FaultKind, Status
from engine.render.utilities.errors import UtilityError
from openjourney.catalog import get_endpoint

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def _fail(job_id: str, message: str) -> None:
    EngineJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).update(
        status=Status.FAILED, error=message, completed_at=timezone.now(), updated_at=timezone.now()
    )


def _advance(job_id: str, status: str, **fields) -> bool:
    """Move an unfinished job on; False when it ended meanwhile (cancelled)."""
    updated = EngineJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).update(
        status=status, updated_at=timezone.now(), **fields
    )
    return bool(updated)


@shared_task(acks_late=True)
def run_job(job_id: str) -> None:
    """Run one job. Safe to run twice: only the first to finish stores a result.

    A utility job is handed to ``run_utility_job``, on ENGINE_UTILITY_QUEUE: fetching its
    image links may take up to ENGINE_FETCH_TIMEOUT, and must not hold a worker that
    generates (`make run` gives that queue a worker of its own).
    """
    _run_job(job_id, run_job)


@shared_task(acks_late=True)
def run_utility_job(job_id: str) -> None:
    """``run_job`` for a utility job, on the utilities' own queue."""
    _run_job(job_id, run_utility_job)


def _hand_over(job: EngineJob, task) -> bool:
    """Whether ``job`` is a utility job that ``run_job`` sends to its own queue."""
    if task is not run_job or get_endpoint(job.endpoint).is_model:
        return False
    return settings.ENGINE_UTILITY_QUEUE != settings.ENGINE_QUEUE


def _run_job(job_id: str, task) -> None:
    from engine.runner import run

    job = EngineJob.objects.select_related("token").filter(pk=job_id).first()
    if job is None or job.is_terminal:
        return
    if _hand_over(job, task):
        run_utility_job.delay(job_id)
        return
    waiting = job.ready_at is not None and job.status == Status.PROCESSING
    if not waiting:
        if job.attempts >= MAX_ATTEMPTS:
            _fail(job_id, f"The engine gave up after {job.attempts} attempts.")
            return
        if not _advance(
            job_id,
            Status.BOOTING,
            started_at=job.started_at or timezone.now(),
            attempts=F("attempts") + 1,
        ):
            return
        if not _advance(job_id, Status.PROCESSING):
            return
    if job.ready_at is not None and job.ready_at > timezone.now():
        # A slow job on purpose: come back when it is due; no worker waits meanwhile.
        task.apply_async((job_id,), eta=job.ready_at)
        return
    if job.fault == FaultKind.JOB_HANGS:
        return  # stays "processing" until cancelled: a fault on purpose
    if job.fault == FaultKind.JOB_FAILS:
        _fail(job_id, "The job failed on purpose (fault switch).")
        return

    try:
        result = run(job, job.token.user_id)
    except (UtilityError, BackendError) as exc:
        _fail(job_id, str(exc))
        return
    except Exception:
        logger.exception("engine job %s failed", job_id)
        _fail(job_id, "The engine could not finish this job (internal error).")
        return

    if result.content:
        name = f"engine/{job.token.user_id}/{secrets.token_urlsafe(24)}.{result.extension}"
        name = default_storage.save(name, ContentFile(result.content))
        stored = EngineJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).update(
            status=Status.SUCCEEDED,
            output_file=name,
            completed_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not stored:
            default_storage.delete(name)  # cancelled (or finished by a twin) meanwhile
    else:
        EngineJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).update(
            status=Status.SUCCEEDED,
            output_text=result.text,
            completed_at=timezone.now(),
            updated_at=timezone.now(),
        )


@shared_task
def requeue_stale_jobs() -> int:
    """Hand unfinished jobs whose message was lost (a killed worker) to a worker again."""
    cutoff = timezone.now() - timedelta(seconds=settings.ENGINE_STALE_JOB_SECONDS)
    stale = list(
        EngineJob.objects.filter(status__in=ACTIVE_STATUSES, updated_at__lt=cutoff)
        .exclude(fault=FaultKind.JOB_HANGS)
        .values_list("pk", flat=True)[:500]
    )
    for job_id in stale:
        EngineJob.objects.filter(pk=job_id).update(updated_at=timezone.now())
        run_job.delay(job_id)
    if stale:
        logger.info("engine: requeued %d stale jobs", len(stale))
    return len(stale)


@shared_task
def remove_expired_outputs() -> int:
    """Remove output files past ENGINE_OUTPUT_TTL (the scheduler runs it); safe to repeat."""
    from engine.delivery import remove_expired_outputs as remove

    removed = remove()
    if removed:
        logger.info("engine: removed %d expired output files", removed)
    return removed
