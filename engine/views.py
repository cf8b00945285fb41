"""The engine's HTTP API: every catalog endpoint, with and without /v1, as JSON."""

from __future__ import annotations

import json
import mimetypes
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.core.files.storage import default_storage
from django.db import DatabaseError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from engine import responses
from engine.auth import authenticate
from engine.backends import ping_status, pipeline_states
from engine.delivery import may_fetch, remove_output
from engine.faults import (
    OUTPUT_FAULTS,
    POLL_KINDS,
    SUBMIT_KINDS,
    active_faults,
    first_of,
    http_fault_response,
)
from engine.models import ApiToken, EngineJob, FaultKind
from engine.services import Refusal, cancel_job, job_payload, submit_job
from openjourney.catalog import ENDPOINTS, UnknownEndpoint, get_endpoint
from openjourney.openapi import openapi_document

ENGINE_VERSION = "1.0.0"
MAX_BODY_BYTES = 64 * 1024


def api_view(view):
    """Public to Django's login (the API has its own tokens), no CSRF, JSON errors."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return view(request, *args, **kwargs)

    return csrf_exempt(login_not_required(wrapper))


def _parse_int(text: str) -> int | float:
    # Past Python's digit limit int() raises; such a number is out of every bound anyway,
    # so it becomes infinity and validation answers 422 instead of 400.
    return int(text) if len(text) <= 4000 else float("inf")


@api_view
def submit(request: HttpRequest, slug: str) -> HttpResponse:
    """POST to a model or utility: validate, create the job, return it at once."""
    try:
        endpoint = get_endpoint(slug)
    except UnknownEndpoint:
        return responses.not_found(f"No endpoint at /v1/{slug.strip('/')}.")
    if endpoint.method != "POST" or "{" in endpoint.path:
        return responses.not_found(f"No endpoint at /v1/{slug.strip('/')}.")
    if request.method != "POST":
        return responses.method_not_allowed(["POST"])
    token = authenticate(request)
    if token is None:
        return responses.unauthorized()

    faults = active_faults(endpoint.slug, "POST", token, SUBMIT_KINDS)
    if (answer := http_fault_response(faults)) is not None:
        return answer

    too_big = responses.error(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        raw = request.body
    except RequestDataTooBig:
        return too_big
    if len(raw) > MAX_BODY_BYTES:
        return too_big
    try:
        body = json.loads(raw.decode("utf-8"), parse_int=_parse_int)
    except (ValueError, RecursionError):
        # ValueError covers bad UTF-8, bad JSON and integers past Python's digit limit.
        return responses.error(400, "The request body is not valid JSON.")

    key = request.headers.get("Idempotency-Key", "").strip() or None
    outcome = submit_job(token, endpoint, body, faults, idempotency_key=key)
    if isinstance(outcome, Refusal):
        if outcome.status == 429:
            return responses.too_many_requests(outcome.detail, outcome.retry_after or 1)
        extra = {"errors": outcome.errors} if outcome.errors is not None else {}
        return responses.error(outcome.status, outcome.detail, **extra)
    return JsonResponse(job_payload(request, outcome))


def _job_for(token: ApiToken, job_id: str) -> EngineJob | None:
    """A job of the token's owner; another user's job is as absent as an unknown one."""
    return EngineJob.objects.filter(pk=job_id, token__user_id=token.user_id).first()


@api_view
def job_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    if request.method != "GET":
        return responses.method_not_allowed(["GET"])
    token = authenticate(request)
    if token is None:
        return responses.unauthorized()
    faults = active_faults("job", "GET", token, POLL_KINDS)
    if (answer := http_fault_response(faults)) is not None:
        return answer
    job = _job_for(token, job_id)
    if job is None or job.fault == FaultKind.JOB_VANISHES:
        return responses.not_found("Job not found.")
    return JsonResponse(job_payload(request, job))


@api_view
def job_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    """Our documented extension: stop a job that has not ended."""
    if request.method != "POST":
        return responses.method_not_allowed(["POST"])
    token = authenticate(request)
    if token is None:
        return responses.unauthorized()
    job = _job_for(token, job_id)
    if job is None:
        return responses.not_found("Job not found.")
    return JsonResponse(job_payload(request, cancel_job(job)))


@api_view
def ping(request: HttpRequest) -> HttpResponse:
    """The engine's and each model's readiness. Needs no token: it is a health check."""
    if request.method != "GET":
        return responses.method_not_allowed(["GET"])
    try:
        EngineJob.objects.exists()
        database = "ok"
    except DatabaseError:
        database = "unavailable"
    states = pipeline_states() if database == "ok" and settings.ENGINE_DIFFUSERS_MODELS else {}
    models = {
        endpoint.slug: ping_status(endpoint, database == "ok", states)
        for endpoint in ENDPOINTS
        if endpoint.method == "POST"
    }
    ok = database == "ok"
    return JsonResponse(
        {
            "status": "ok" if ok else "degraded",
            "engine": "openjourney-studio-engine",
            "version": ENGINE_VERSION,
            "database": database,
            "models": models,
        },
        status=200 if ok else 503,
    )


@api_view
def license_info(request: HttpRequest) -> HttpResponse:
    """The engine's version and licence, and the token's owner and limits."""
    if request.method != "GET":
        return responses.method_not_allowed(["GET"])
    token = authenticate(request)
    if token is None:
        return responses.unauthorized()
    active = EngineJob.objects.filter(token=token, status__in=("starting", "booting", "processing"))
    return JsonResponse(
        {
            "engine": "openjourney-studio-engine",
            "version": ENGINE_VERSION,
            "license": "MIT",
            "owner": token.user.get_username(),
            "token": {"name": token.name, "prefix": token.prefix},
            "limits": {"max_active_jobs": token.active_job_limit, "active_jobs": active.count()},
        }
    )


@api_view
def openapi(request: HttpRequest) -> HttpResponse:
    return JsonResponse(openapi_document(server_url=request.build_absolute_uri("/engine")))


@api_view
def output_file(request: HttpRequest, name: str) -> HttpResponse:
    """A job's output, to whom the job belongs (engine/delivery.py); DELETE removes it.

    Anyone else, and a file removed already, gets 404, as for a name that never existed.
    """
    if request.method not in ("GET", "HEAD", "DELETE"):
        return responses.method_not_allowed(["GET", "HEAD", "DELETE"])
    job = EngineJob.objects.select_related("token").filter(output_file=name).first()
    token = authenticate(request) if "Authorization" in request.headers else None
    if job is None or job.output_removed_at is not None:
        return responses.not_found("No such file.")
    if request.method == "DELETE":
        if token is None or token.user_id != job.token.user_id:
            return responses.not_found("No such file.")
        remove_output(job)
        return HttpResponse(status=204)
    if not may_fetch(request, job, token) or not default_storage.exists(name):
        return responses.not_found("No such file.")
    faults = active_faults("files", "GET", None, {*OUTPUT_FAULTS, FaultKind.SLOW})
    http_fault_response(faults)  # waits for slow faults; answers none for files
    fault = first_of(faults, OUTPUT_FAULTS)
    if fault and fault.kind == FaultKind.OUTPUT_ERROR:
        return responses.error(503, "The file could not be served (fault switch).")
    if fault and fault.kind == FaultKind.OUTPUT_NOT_IMAGE:
        return HttpResponse(b"<html>not an image</html>", content_type="image/png")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # Kept by the client that fetched it, no longer than its link lives.
    response["Cache-Control"] = f"private, max-age={settings.ENGINE_OUTPUT_LINK_SECONDS}"
    # A file opened directly (an SVG above all) must not run anything.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@api_view
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    return responses.not_found(f"No endpoint at /{rest}.")


def server_error(request: HttpRequest) -> HttpResponse:
    """The engine server's 500 (``handler500``): JSON, as every other answer of the API."""
    return responses.error(500, "The engine could not answer this request.")
