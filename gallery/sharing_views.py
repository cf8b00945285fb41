"""Sharing one image: with one of its author's teams, and by public links anyone may open.

The panel these views answer with is the image page's (gallery/image_page.py builds it);
its URLs are under /teams/ (gallery/sharing_urls.py), where they were first.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from gallery.access import get_editable_image_for, get_image_for
from gallery.files import file_response
from gallery.forms import ShareLinkForm, ShareWithTeamForm
from gallery.image_page import sharing_context
from gallery.models import Image, ShareLink
from gallery.sharing import create_share_link, read_share_link, revoke_share_link, share_image
from teams.membership import TeamRuleError


def _sharing_response(request: HttpRequest, image: Image, status: int = 200, **extra):
    context = sharing_context(request, image, **extra)
    if request.htmx:
        return render(request, "gallery/image_sharing.html#panel", context, status=status)
    return render(request, "gallery/image_sharing.html", context, status=status)


@require_GET
def image_sharing(request: HttpRequest, image_pk: int) -> HttpResponse:
    """Where an image is shared and its public links (the image page shows the same panel)."""
    image = get_image_for(request.user, image_pk)
    return _sharing_response(request, image)


@require_POST
def image_share(request: HttpRequest, image_pk: int) -> HttpResponse:
    """The author moves the image into one of their teams, or makes it private again."""
    image = get_image_for(request.user, image_pk)
    form = ShareWithTeamForm(request.user, request.POST)
    if image.owner_id != request.user.pk:
        return _sharing_response(
            request,
            image,
            status=403,
            error="Only the image's author can choose where it is shared.",
        )
    if not form.is_valid():
        return _sharing_response(request, image, status=422, share_form=form)
    try:
        share_image(image, request.user, form.cleaned_data["team"])
    except TeamRuleError as error:
        return _sharing_response(request, image, status=422, error=str(error))
    team = form.cleaned_data["team"]
    notice = f"Shared with {team.name}." if team else "The image is private again."
    if request.htmx:
        return _sharing_response(request, image, notice=notice)
    messages.success(request, notice)
    return redirect(image)


@require_POST
def share_link_create(request: HttpRequest, image_pk: int) -> HttpResponse:
    image = get_editable_image_for(request.user, image_pk)
    form = ShareLinkForm(request.POST)
    if not form.is_valid():
        return _sharing_response(request, image, status=422, link_form=form)
    create_share_link(image, request.user, form.cleaned_data["days"])
    notice = "Public link made: anyone with it can see this image until it expires."
    if request.htmx:
        return _sharing_response(request, image, notice=notice)
    messages.success(request, notice)
    return redirect("sharing:image-sharing", image.pk)


@require_POST
def share_link_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(ShareLink.objects.select_related("image"), pk=pk)
    image = get_editable_image_for(request.user, link.image_id)
    revoke_share_link(link, request.user)
    notice = "The link no longer works."
    if request.htmx:
        return _sharing_response(request, image, notice=notice)
    messages.success(request, notice)
    return redirect("sharing:image-sharing", image.pk)


def _public_link(value: str) -> ShareLink:
    link = read_share_link(value)
    if link is None:
        raise Http404("This link is not valid, has expired or was withdrawn.")
    return link


@login_not_required
@require_GET
def public_image(request: HttpRequest, value: str) -> HttpResponse:
    """Anyone with a live link: the image and its prompt, nothing else."""
    link = _public_link(value)
    response = render(request, "gallery/public_image.html", {"link": link, "value": value})
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_not_required
@require_GET
def public_image_file(request: HttpRequest, value: str) -> HttpResponse:
    link = _public_link(value)
    response = file_response(link.image.file.name, link.image.content_type)
    # Short: a withdrawn link should stop working in browsers soon, not in an hour.
    response["Cache-Control"] = "private, max-age=60"
    response["X-Robots-Tag"] = "noindex"
    return response
