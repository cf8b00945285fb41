"""The create pages: the picker, a form per catalog endpoint, and making an image again
(re-run, remix, variations, send to a utility, recall from a file)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from create import remake
from create.forms import EndpointForm, form_field_names
from create.remake_forms import RecallForm, RemakeForm, VariationsForm
from create.services import submit_form
from gallery.access import get_image_for
from gallery.links import public_base_warning
from gallery.models import Image
from jobs.upstream import upstream_health
from openjourney.catalog import Endpoint, UnknownEndpoint, by_family, get_endpoint
from studio.lib.ratelimit import RateLimited, limit_submits, too_many


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
    return render(request, "create/create.html", {"families": _families(), "endpoint": None})


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
        template = "create/create.html#endpoint-form" if request.htmx else "create/create.html"
        return render(request, template, _form_context(request, endpoint, form))

    form = EndpointForm(endpoint, request.user, request.POST, request.FILES)
    refusal = None
    if form.is_valid():
        try:
            limit_submits(request.user)
        except RateLimited as error:
            refusal = error
            form.add_error(None, str(error))
    # submit_form gives [] (and the form an error) when the chosen team refuses the submit
    # or the gallery an upload.
    if not form.is_valid() or not (jobs := submit_form(form)):
        context = _form_context(request, endpoint, form)
        if request.htmx:
            # The form comes back with its errors in place of the results it would add.
            response = render(request, "create/create.html#endpoint-form", context)
            response = reswap(retarget(response, "#endpoint-form"), "outerHTML")
        else:
            response = render(request, "create/create.html", context, status=422)
        return too_many(response, refusal) if refusal else response
    if request.htmx:
        response = render(request, "create/create.html#submitted", {"jobs": jobs})
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
        request, "create/create.html#endpoint-form", _form_context(request, endpoint, form)
    )


# --- Made again: re-run, remix, variations, send to a utility, recall from a file ----------
# Each view finds the image through gallery.access.get_image_for: an image the user may not
# see answers 404. The rules (and the reasons something cannot be made again) are in
# create/remake.py.


def _remade(request: HttpRequest, jobs: list) -> HttpResponse:
    """The new jobs: their cards (HTMX), else the job (one) or the jobs list (several)."""
    if request.htmx:
        return render(request, "create/image_actions.html#remade", {"jobs": jobs})
    if len(jobs) == 1:
        return redirect(jobs[0])
    return redirect(reverse("jobs:list"))


def _not_remade(request: HttpRequest, image: Image, message: str) -> HttpResponse:
    """A refusal, said where the user acted: in the actions (HTMX) or on the image's page."""
    if request.htmx:
        return render(request, "create/image_actions.html#remade", {"error": message})
    messages.error(request, message)
    return redirect(image)


def _too_fast(request: HttpRequest, image: Image, refusal: RateLimited) -> HttpResponse:
    """A submit over the user's rate limit: 429, said where the user acted."""
    if request.htmx:
        response = render(request, "create/image_actions.html#remade", {"error": str(refusal)})
    else:
        response = render(request, "rate_limited.html", {"message": str(refusal)})
    return too_many(response, refusal)


def _first_error(form) -> str:
    return next(iter(form.errors.values()))[0]


def _remake(request: HttpRequest, pk: int, form_class, make: Callable) -> HttpResponse:
    """Re-run or variations of an image: its form checked, the submit limit, then ``make``
    (form, image) gives the jobs; every refusal is said on the image's page."""
    image = get_image_for(request.user, pk)
    form = form_class(request.user, request.POST)
    if not form.is_valid():
        return _not_remade(request, image, _first_error(form))
    try:
        limit_submits(request.user)
    except RateLimited as refusal:
        return _too_fast(request, image, refusal)
    try:
        jobs = make(form, image)
    except remake.NotRemakable as refusal:
        return _not_remade(request, image, str(refusal))
    return _remade(request, jobs)


@require_POST
def rerun(request: HttpRequest, pk: int) -> HttpResponse:
    """The same endpoint, input and seed again: with the local engine, the same image."""
    return _remake(
        request,
        pk,
        RemakeForm,
        lambda form, image: [remake.rerun(request.user, image, team=form.team)],
    )


@require_POST
def variations(request: HttpRequest, pk: int) -> HttpResponse:
    """N jobs of the image's recipe, each with a new random seed."""
    return _remake(
        request,
        pk,
        VariationsForm,
        lambda form, image: remake.variations(
            request.user, image, form.cleaned_data["count"], team=form.team
        ),
    )


@require_GET
def remix(request: HttpRequest, pk: int) -> HttpResponse:
    """The image's create form, filled with its recipe, the seed left empty."""
    image = get_image_for(request.user, pk)
    try:
        return redirect(remake.remix_url(image))
    except remake.NotRemakable as refusal:
        return _not_remade(request, image, str(refusal))


@require_GET
def send_to_utility(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    """A one-image utility's form with this image chosen."""
    image = get_image_for(request.user, pk)
    if slug not in remake.SEND_UTILITIES:
        raise Http404("No such utility.")
    try:
        return redirect(remake.utility_url(image, slug))
    except remake.NotRemakable as refusal:
        return _not_remade(request, image, str(refusal))


@require_GET
def send_to_faceswap(request: HttpRequest, pk: int) -> HttpResponse:
    """Face swap into this image, the face taken from a second image (``?face=<id>``);
    without one, a page to choose it."""
    target = get_image_for(request.user, pk)
    face_id = request.GET.get("face", "")
    error = ""
    if face_id:
        if face_id.isdigit() and len(face_id) < 19:
            face = get_image_for(request.user, int(face_id))
            try:
                return redirect(remake.faceswap_url(target, face))
            except remake.NotRemakable as refusal:
                error = str(refusal)
        else:
            error = "Choose the image whose face goes into this one."
    context = {
        "image": target,
        "faces": remake.face_choices(request.user, target),
        "error": error,
    }
    return render(request, "create/faceswap_choose.html", context, status=422 if error else 200)


@require_http_methods(["GET", "POST"])
def recall(request: HttpRequest) -> HttpResponse:
    """A PNG with a recipe (ours, A1111's or InvokeAI's) opens the matching form, filled in."""
    if request.method == "GET":
        return render(request, "create/recall.html", {"form": RecallForm()})
    form = RecallForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "create/recall.html", {"form": form}, status=422)
    filled, note = remake.recall(form.recipe)
    messages.info(request, note)
    return redirect(filled.url)
