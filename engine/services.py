"""The engine's rules: submitting, describing and cancelling jobs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from engine.delivery import signed_output_path
from engine.faults import JOB_FAULTS, ActiveFault, first_of
from engine.models import ACTIVE_STATUSES, ApiToken, EngineJob, FaultKind, Status
from openjourney.catalog import SEED_MAX, Endpoint, validate


@dataclass
class Refusal:
    """Why a submit was refused, as the HTTP answer will say it."""

    status: int
    detail: str
    errors: dict[str, list[str]] | None = None
    retry_after: int | None = None


def submit_job(
    token: ApiToken,
    endpoint: Endpoint,
    body: object,
    faults: list[ActiveFault],
    idempotency_key: str | None = None,
) -> EngineJob | Refusal:
    """Validate a request and create its job, or say why not. The worker runs it.

    With an ``idempotency_key`` already used by this token, the job it created is
    returned instead: a client unsure whether its POST arrived can send it again.
    """
    if idempotency_key:
        if len(idempotency_key) > 100 or not all(" " <= ch <= "~" for ch in idempotency_key):
            return Refusal(
                400, "The Idempotency-Key header must be at most 100 printable characters."
            )
        existing = EngineJob.objects.filter(token=token, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_request(existing, endpoint, body)
    result = validate(endpoint, body)
    if not result.ok:
        return Refusal(422, "The request body is invalid.", errors=result.errors)

    data = dict(result.data)
    # Endpoints without a seed field still get one, recorded on the job, so that every
    # output is reproducible by the engine; the input keeps what was asked for.
    seed = data.get("seed")
    if seed is None:
        seed = secrets.randbelow(SEED_MAX + 1)
        if endpoint.takes_seed:
            data["seed"] = seed
    fault = first_of(faults, JOB_FAULTS)

    with transaction.atomic():
        # Lock the token row so concurrent submits count active jobs one at a time.
        ApiToken.objects.select_for_update().filter(pk=token.pk).first()
        active = EngineJob.objects.filter(token=token, status__in=ACTIVE_STATUSES).count()
        if active >= token.active_job_limit:
            return Refusal(
                429,
                f"Too many active jobs ({active}); this token may have "
                f"{token.active_job_limit} at once.",
                retry_after=2,
            )
        existing = (
            EngineJob.objects.filter(token=token, idempotency_key=idempotency_key).first()
            if idempotency_key
            else None
        )
        if existing is not None:  # a twin request won the race while we waited for the lock
            return existing
        job = EngineJob.objects.create(
            token=token,
            endpoint=endpoint.slug,
            input=data,
            seed=seed,
            fault=fault.kind if fault else "",
            ready_at=(
                timezone.now() + timedelta(milliseconds=fault.delay_ms)
                if fault and fault.kind == FaultKind.JOB_SLOW
                else None
            ),
            idempotency_key=idempotency_key or None,
        )
        from engine.tasks import run_job

        transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


def _same_request(existing: EngineJob, endpoint: Endpoint, body: object) -> EngineJob | Refusal:
    """A repeated key returns its job, but only for the same request (as the IETF draft)."""
    result = validate(endpoint, body)
    asked = {k: v for k, v in result.data.items() if k != "seed" or "seed" in (body or {})}
    kept = {k: v for k, v in existing.input.items() if k in asked or k != "seed"}
    if existing.endpoint != endpoint.slug or not result.ok or asked != kept:
        return Refusal(422, "This Idempotency-Key was already used for a different request.")
    return existing


def cancel_job(job: EngineJob) -> EngineJob:
    """Cancel a job that has not ended; an ended one is returned as it is."""
    EngineJob.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
        status=Status.CANCELLED, completed_at=timezone.now(), updated_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def output_url(request: HttpRequest, job: EngineJob) -> str | None:
    """A signed, expiring link to the job's file (engine/delivery.py), or its text."""
    if job.output_file:
        return request.build_absolute_uri(signed_output_path(job.output_file))
    return job.output_text or None


def job_payload(request: HttpRequest, job: EngineJob) -> dict:
    """The job as the API returns it (Replicate's shape)."""
    succeeded = job.status == Status.SUCCEEDED
    metrics: dict = {"predict_time": job.predict_time}
    if job.steps is not None:  # a backend that works in steps (diffusers) reports them
        metrics.update(step=job.step or 0, steps=job.steps)
    return {
        "id": job.id,
        "model": "/v1/" + job.endpoint,
        "status": job.status,
        "input": job.input,
        "seed": job.seed,
        "output": output_url(request, job) if succeeded else None,
        "error": job.error or None,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "completed_at": job.completed_at.isoformat() if job.completed_at else None,
        "metrics": metrics,
        "urls": {
            "get": request.build_absolute_uri(f"/engine/v1/job/{job.id}"),
            "cancel": request.build_absolute_uri(f"/engine/v1/job/{job.id}/cancel"),
        },
    }
