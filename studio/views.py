"""The studio's own pages: home, the create page (a form per catalog endpoint), health."""

from __future__ import annotations

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from gallery.links import public_base_warning
from jobs.api import get_client
from openjourney.catalog import Endpoint, UnknownEndpoint, by_family, get_endpoint
from openjourney.client import ApiError
from studio.forms import EndpointForm, form_field_names
from studio.services import submit_form

HEALTH_CACHE_SECONDS = 10


def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's start page: where to go next."""
    return render(request, "studio/home.html")


def upstream_health() -> dict:
    """The API's ping, cached briefly: shown in the header and on every form."""
    health = cache.get("studio:upstream-health")
    if health is None:
        try:
            ping = get_client().ping(retries=0)
            health = {"ok": ping.get("status") == "ok", "detail": ""}
        except ApiError as error:
            health = {"ok": False, "detail": str(error)}
        cache.set("studio:upstream-health", health, HEALTH_CACHE_SECONDS)
    return health


def creatable_endpoint(slug: str) -> Endpoint:
    """The catalog endpoint behind a create URL, or 404."""
    try:
        endpoint = get_endpoint(slug)
    except UnknownEndpoint:
        raise Http404("No such model or utility.") from None
    if endpoint.method != "POST" or not (endpoint.is_model or endpoint.is_utility):
        raise Http404("No such model or utility.")
    return endpoint


def _families() -> list[tuple[str, list[Endpoint]]]:
    return [
        (family.label, endpoints)
        for family, endpoints in by_family().items()
        if any(e.is_model or e.is_utility for e in endpoints)
    ]


@require_GET
def create(request: HttpRequest) -> HttpResponse:
    """The picker of every model and utility, grouped by family."""
    return render(request, "studio/create.html", {"families": _families(), "endpoint": None})


def _form_context(request: HttpRequest, endpoint: Endpoint, form: EndpointForm) -> dict:
    return {
        "families": _families(),
        "endpoint": endpoint,
        "form": form,
        "health": upstream_health(),
        "link_warning": public_base_warning() if endpoint.is_utility else "",
        "seedless": not endpoint.takes_seed and endpoint.is_model,
    }


@require_http_methods(["GET", "POST"])
def create_endpoint(request: HttpRequest, slug: str) -> HttpResponse:
    """One endpoint's form; a valid POST creates its jobs and shows their cards at once."""
    endpoint = creatable_endpoint(slug)
    if request.method == "GET":
        # Query parameters prefill the form (remix, "use as prompt", send to a utility).
        initial = {k: v for k, v in request.GET.items() if k in form_field_names(endpoint)}
        form = EndpointForm(endpoint, request.user, initial=initial)
        template = "studio/create.html#endpoint-form" if request.htmx else "studio/create.html"
        return render(request, template, _form_context(request, endpoint, form))

    form = EndpointForm(endpoint, request.user, request.POST, request.FILES)
    if not form.is_valid():
        context = _form_context(request, endpoint, form)
        if request.htmx:
            # The form comes back with its errors in place of the results it would add.
            response = render(request, "studio/create.html#endpoint-form", context)
            return reswap(retarget(response, "#endpoint-form"), "outerHTML")
        return render(request, "studio/create.html", context, status=422)
    jobs = submit_form(form)
    if request.htmx:
        response = render(request, "studio/create.html#submitted", {"jobs": jobs})
        return response
    if len(jobs) == 1:
        return redirect(jobs[0])
    return redirect(reverse("jobs:list"))


@require_POST
def validate_endpoint(request: HttpRequest, slug: str) -> HttpResponse:
    """Inline validation while the user types: the form with its errors, nothing saved."""
    endpoint = creatable_endpoint(slug)
    form = EndpointForm(endpoint, request.user, request.POST, request.FILES)
    form.is_valid()
    return render(
        request, "studio/create.html#endpoint-form", _form_context(request, endpoint, form)
    )


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """The header's badge: is the API up?"""
    return render(request, "studio/health.html", {"health": upstream_health()})
