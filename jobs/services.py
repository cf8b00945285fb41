"""The rules of jobs: creating them (with seeds), cancelling, retrying."""

from __future__ import annotations

import secrets
import uuid

from django.db import transaction
from django.utils import timezone

from jobs.events import publish_job
from jobs.models import ACTIVE, Job, Stage
from openjourney.catalog import SEED_MAX, Endpoint

MAX_BATCH = 8


def random_seed() -> int:
    return secrets.randbelow(SEED_MAX + 1)


def batch_seeds(count: int, seed: int | None, locked: bool) -> list[int]:
    """Seeds for ``count`` jobs: seed, seed+1, ... when locked, otherwise random ones."""
    if locked and seed is not None:
        return [(seed + offset) % (SEED_MAX + 1) for offset in range(count)]
    first = seed if seed is not None else random_seed()
    return [first] + [random_seed() for _ in range(count - 1)]


def enqueue_submit(job: Job) -> None:
    from jobs.tasks import submit_job

    transaction.on_commit(lambda: submit_job.delay(job.pk))


def create_jobs(
    owner,
    endpoint: Endpoint,
    body: dict,
    *,
    count: int = 1,
    seed_locked: bool = False,
    parent_image=None,
) -> list[Job]:
    """Create ``count`` jobs for one form submit and queue their submits.

    The studio always sends a seed where the endpoint takes one, so that every stored
    image can be made again exactly.
    """
    count = max(1, min(count, MAX_BATCH))
    seeds: list[int | None] = [None] * count
    if endpoint.takes_seed:
        seeds = batch_seeds(count, body.get("seed"), seed_locked)
    batch = uuid.uuid4() if count > 1 else None
    jobs = []
    with transaction.atomic():
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
            )
            enqueue_submit(job)
            jobs.append(job)
    return jobs


def cancel_job(job: Job) -> Job:
    """Stop following a job; ask the upstream to cancel it where it can."""
    from jobs.tasks import cancel_upstream

    updated = Job.objects.filter(pk=job.pk, status__in=ACTIVE).update(
        status=Stage.CANCELLED, finished_at=timezone.now(), next_poll_at=None
    )
    job.refresh_from_db()
    if updated:
        if job.upstream_id:
            transaction.on_commit(lambda: cancel_upstream.delay(job.pk))
        publish_job(job)
    return job


def retry_job(job: Job) -> Job:
    """A new job with the same input (and seed) as ``job``."""
    new = Job.objects.create(
        owner=job.owner,
        endpoint=job.endpoint,
        input=dict(job.input),
        seed=job.seed,
        parent_image=job.parent_image,
    )
    enqueue_submit(new)
    return new
