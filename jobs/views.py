"""The jobs pages: the list, one job, its live card, cancel and retry, the event stream, and a
team's usage (its jobs counted, at /teams/<pk>/usage: jobs/usage_urls.py)."""

from __future__ import annotations

import asyncio
import json

import redis.asyncio as aioredis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING, reswap

from gallery.links import shown_input
from jobs.access import get_job_for
from jobs.events import channel_for
from jobs.models import Job, Stage
from jobs.quota import TeamSubmitRefused
from jobs.services import NotRetriable, cancel_job, retry_job
from jobs.usage import team_usage
from openjourney.catalog import ENDPOINTS
from studio.lib.ratelimit import RateLimited, limit_submits, too_many
from teams.access import get_team_for, team_view

ENDPOINT_SLUGS = frozenset(endpoint.slug for endpoint in ENDPOINTS)
SSE_HEARTBEAT_SECONDS = 15
SSE_MAX_SECONDS = 300  # the browser reconnects by itself; long streams are not kept forever


@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """The user's jobs, newest first, filtered by status and model."""
    jobs = Job.objects.for_user(request.user).select_related("image")
    status = request.GET.get("status", "")
    endpoint = request.GET.get("model", "")
    if status in Stage.values:
        jobs = jobs.filter(status=status)
    if endpoint in ENDPOINT_SLUGS:  # anything else (a typo, a NUL byte) filters nothing
        jobs = jobs.filter(endpoint=endpoint)
    page = Paginator(jobs, 24).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "jobs": page.object_list,
        "status": status,
        "model": endpoint,
        "statuses": Stage.choices,
        "models": [e for e in ENDPOINTS if e.is_model or e.is_utility],
    }
    template = "jobs/job_list.html#job-results" if request.htmx else "jobs/job_list.html"
    return render(request, template, context)


@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's card and what it asked for: an image input as the gallery image it is
    (while the user may see it), never the signed link the API was sent."""
    job = get_job_for(request.user, pk)
    inputs = [(key, shown_input(value, request.user)) for key, value in job.input.items()]
    return render(request, "jobs/job_detail.html", {"job": job, "inputs": inputs})


@require_GET
def job_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's card; once it has ended, HTMX's polling is told to stop (HTTP 286)."""
    job = get_job_for(request.user, pk)
    response = render(request, "jobs/job_card.html", {"job": job})
    if job.is_terminal and request.htmx:
        response.status_code = HTMX_STOP_POLLING
    return response


@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = cancel_job(get_job_for(request.user, pk))
    if request.htmx:
        return render(request, "jobs/job_card.html", {"job": job})
    return redirect(job)


@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """The same input again, as a new job."""
    job = get_job_for(request.user, pk)
    try:
        limit_submits(request.user)
    except RateLimited as refusal:
        if request.htmx:
            response = render(request, "jobs/job_card.html", {"job": job, "notice": str(refusal)})
            response = reswap(response, "outerHTML")
        else:
            response = render(request, "rate_limited.html", {"message": str(refusal)})
        return too_many(response, refusal)
    try:
        new = retry_job(job)
    except (NotRetriable, TeamSubmitRefused) as refusal:
        messages.error(request, str(refusal))
        if request.htmx:
            # The card again, with the reason, in place of the new card it would have added.
            response = render(request, "jobs/job_card.html", {"job": job, "notice": str(refusal)})
            return reswap(response, "outerHTML")
        return redirect(job)
    if request.htmx:
        return render(request, "jobs/job_card.html", {"job": new})
    return redirect(new)


async def _event_stream(user_id: int):
    """Server-sent events: one ``job-<id>`` event per change of the user's jobs."""
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(channel_for(user_id))
        yield "retry: 2000\n\n"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SSE_MAX_SECONDS
        last_beat = loop.time()
        while loop.time() < deadline:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                try:
                    event = json.loads(message["data"])
                    yield f"event: job-{int(event['job'])}\ndata: {event.get('status', '')}\n\n"
                except (ValueError, KeyError, TypeError):
                    continue
            if loop.time() - last_beat > SSE_HEARTBEAT_SECONDS:
                last_beat = loop.time()
                yield ": keep-alive\n\n"
    except (aioredis.RedisError, OSError):
        # Redis went away: end the stream; the browser reconnects and pages still poll.
        return
    finally:
        try:
            await pubsub.aclose()
            await client.aclose()
        except (aioredis.RedisError, OSError):
            pass


@login_required
async def job_events(request: HttpRequest) -> StreamingHttpResponse:
    """The live-update stream of the signed-in user's jobs (served under ASGI)."""
    user = await request.auser()
    response = StreamingHttpResponse(_event_stream(user.pk), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


# --- a team's usage -------------------------------------------------------------------------


@team_view
@require_GET
def team_usage_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Jobs, successes and failures of the last 30 days, per member, model and day."""
    team = get_team_for(request.user, pk)
    member_id = None
    raw = request.GET.get("member", "")
    if raw.isdigit():
        member_id = int(raw)
    usage = team_usage(team, member_id=member_id)
    selected = None
    if member_id is not None:
        selected = next((m for m in usage["members"] if m["user_id"] == member_id), None)
        if selected is None:
            member_id = None
            usage = team_usage(team)
    context = {"team": team, "usage": usage, "selected": selected}
    return render(request, "jobs/team_usage.html", context)
