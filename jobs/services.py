"""The rules of jobs: creating them (with seeds) and sending them, cancelling, retrying."""

from __future__ import annotations

import logging
import secrets
import uuid

import redis
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from gallery.links import MediaGone, fresh_media_links
from jobs.events import publish_job
from jobs.models import ACTIVE, Job, Stage
from jobs.quota import claim_team_jobs
from jobs.tasks import cancel_upstream, submit_job
from openjourney.catalog import SEED_MAX, Endpoint
from teams.activity import note_generated
from teams.models import Team

MAX_BATCH = 8
# What sending a task raises while Redis, the broker, is away (Celery wraps most in kombu's).
QUEUE_DOWN = (BrokerError, redis.ConnectionError, redis.TimeoutError, OSError)
logger = logging.getLogger(__name__)


def random_seed() -> int:
    return secrets.randbelow(SEED_MAX + 1)


def batch_seeds(count: int, seed: int | None, locked: bool) -> list[int]:
    """Seeds for ``count`` jobs: seed, seed+1, ... when locked, otherwise random ones."""
    if locked and seed is not None:
        return [(seed + offset) % (SEED_MAX + 1) for offset in range(count)]
    first = seed if seed is not None else random_seed()
    return [first] + [random_seed() for _ in range(count - 1)]


def send_submits(jobs: list[Job]) -> None:
    """Put the jobs' submits on the queue.

    While the queue does not answer (Redis away) the jobs are kept and marked as waiting
    for it (their cards say so: the person need not submit again), and the reconciler sends
    them once it answers (``jobs.tasks.reconcile_jobs``). After one refusal the rest of the
    batch is not tried: each try costs the broker's retries (about 0.6 s).
    """
    for index, job in enumerate(jobs):
        try:
            submit_job.delay(job.pk)
        except QUEUE_DOWN as error:
            waiting = jobs[index:]
            logger.warning(
                "the queue is unreachable (%s): job(s) %s kept, sent once it answers",
                error,
                ", ".join(str(job.pk) for job in waiting),
            )
            now = timezone.now()
            Job.objects.filter(pk__in=[job.pk for job in waiting], status=Stage.QUEUED).update(
                enqueue_failed_at=now
            )
            for job in waiting:
                job.enqueue_failed_at = now
            return


def enqueue_submits(jobs: list[Job]) -> None:
    """Send the jobs' submits once the transaction that created them commits."""
    transaction.on_commit(lambda: send_submits(jobs))


def create_jobs(
    owner,
    endpoint: Endpoint,
    body: dict,
    *,
    count: int = 1,
    seed_locked: bool = False,
    parent_image=None,
    team=None,
) -> list[Job]:
    """Create ``count`` jobs for one form submit and queue their submits.

    The studio always sends a seed where the endpoint takes one, so that every stored
    image can be made again exactly. With a ``team`` ("save to"), the owner must be one of
    its editors and within its daily quota (jobs.quota.TeamSubmitRefused otherwise,
    nothing created); the check and the jobs share one transaction, the member's row locked.
    """
    count = max(1, min(count, MAX_BATCH))
    seeds: list[int | None] = [None] * count
    if endpoint.takes_seed:
        seeds = batch_seeds(count, body.get("seed"), seed_locked)
    batch = uuid.uuid4() if count > 1 else None
    jobs = []
    with transaction.atomic():
        if team is not None:
            claim_team_jobs(team, owner, count)
        for seed in seeds:
            data = dict(body)
            if seed is not None:
                data["seed"] = seed
            job = Job.objects.create(
                owner=owner,
                endpoint=endpoint.slug,
                input=data,
                seed=seed,
                batch=batch,
                parent_image=parent_image,
                team=team,
            )
            # A new job has no image yet: its card (rendered right away) need not ask.
            Job.image.related.set_cached_value(job, None)
            jobs.append(job)
        enqueue_submits(jobs)
        if team is not None:
            note_generated(team, owner, endpoint.display_title, count, str(body.get("prompt", "")))
    return jobs


def cancel_job(job: Job) -> Job:
    """Stop following a job; ask the upstream to cancel it where it can."""
    updated = Job.objects.filter(pk=job.pk, status__in=ACTIVE).update(
        status=Stage.CANCELLED, finished_at=timezone.now(), next_poll_at=None
    )
    job.refresh_from_db()
    if updated:
        if job.upstream_id:
            transaction.on_commit(lambda: _send_cancel(job.pk))
        publish_job(job)
    return job


def _send_cancel(job_id: int) -> None:
    try:
        cancel_upstream.delay(job_id)
    except QUEUE_DOWN as error:
        # The job is cancelled here all the same; the API finishes it, and nobody stores it.
        logger.warning(
            "the queue is unreachable (%s): job %s not cancelled upstream", error, job_id
        )


class NotRetriable(Exception):
    """A job that cannot be run again; the message says why, for people."""


def retry_job(job: Job) -> Job:
    """A new job with the same input (and seed) as ``job``.

    The same team when the owner may still generate into it (its quota applies: a refusal
    raises jobs.quota.TeamSubmitRefused); our signed image links, which expire, are
    signed afresh, and only while the owner may still see those images.
    """
    fields = [spec.name for spec in job.spec.image_fields]
    try:
        body = fresh_media_links(job.input, fields, job.owner_id)
    except MediaGone:
        raise NotRetriable("An image this job used is gone, or no longer yours to use.") from None
    team = None
    if job.team_id and Team.objects.editable_by(job.owner).filter(pk=job.team_id).exists():
        team = job.team
    [new] = create_jobs(
        job.owner,
        job.spec,
        body,
        seed_locked=True,
        parent_image=job.parent_image,
        team=team,
    )
    return new
