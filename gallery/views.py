"""The gallery: the user's images, one image, its files, and signed links for the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from gallery.links import read_signed_value
from gallery.models import Image


def get_image_for(user, pk: int) -> Image:
    """An image the user may see, or 404 (another user's is as absent as a missing one)."""
    return get_object_or_404(Image.objects.visible_to(user), pk=pk)


def get_editable_image_for(user, pk: int) -> Image:
    """An image the user may change or delete, or 404."""
    return get_object_or_404(Image.objects.editable_by(user), pk=pk)


def file_response(name: str, content_type: str, *, download_name: str | None = None):
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is missing.") from None
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=download_name is not None,
        filename=download_name or "",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    if content_type == "image/svg+xml":
        # Opened on its own, an SVG may not run anything or load anything.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@require_GET
def image_list(request: HttpRequest) -> HttpResponse:
    """The user's images, newest first."""
    images = Image.objects.for_user(request.user)
    page = Paginator(images, 48).get_page(request.GET.get("page"))
    return render(request, "gallery/image_list.html", {"page": page, "images": page.object_list})


@require_GET
def image_detail(request: HttpRequest, pk: int) -> HttpResponse:
    image = get_image_for(request.user, pk)
    return render(request, "gallery/image_detail.html", {"image": image})


@require_GET
def image_file(request: HttpRequest, pk: int) -> HttpResponse:
    image = get_image_for(request.user, pk)
    download = f"openjourney-{image.pk}.{image.format}" if "download" in request.GET else None
    return file_response(image.file.name, image.content_type, download_name=download)


@require_GET
def image_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    image = get_image_for(request.user, pk)
    if not image.thumbnail:
        return file_response(image.file.name, image.content_type)
    return file_response(image.thumbnail.name, "image/webp")


@login_not_required
@require_GET
def signed_media(request: HttpRequest, value: str) -> HttpResponse:
    """A stored image behind a signed, expiring link (for the API to fetch)."""
    name = read_signed_value(value)
    if name is None or not default_storage.exists(name):
        raise Http404("The link is invalid or has expired.")
    image = Image.objects.filter(file=name).only("content_type").first()
    if image is None:
        raise Http404("The link is invalid or has expired.")
    return file_response(name, image.content_type)
