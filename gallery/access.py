"""Access to the gallery's objects: one helper per model; another user's object is as absent
as a missing one (404)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from gallery.models import Collection, Image, ImageQuerySet


def get_image_for(user, pk: int, queryset: ImageQuerySet | None = None) -> Image:
    """An image the user may see, or 404 (another user's is as absent as a missing one)."""
    images = queryset if queryset is not None else Image.objects.all()
    return get_object_or_404(images.visible_to(user), pk=pk)


def get_editable_image_for(user, pk: int) -> Image:
    """An image the user may change or delete, or 404."""
    return get_object_or_404(Image.objects.editable_by(user), pk=pk)


def get_images_for(user, ids: list[int], *, editable: bool = False) -> list[Image]:
    """All of ``ids`` as images the user may see (or edit), newest first; one missing: 404."""
    images = Image.objects.editable_by(user) if editable else Image.objects.visible_to(user)
    found = list(
        images.filter(pk__in=ids).select_related("owner", "team").order_by("-created_at", "-id")
    )
    if len(found) != len(set(ids)):
        raise Http404("No such image.")
    return found


def get_collection_for(user, pk: int) -> Collection:
    """The user's own collection, or 404: collections are never shared."""
    return get_object_or_404(Collection, pk=pk, owner=user)
