"""Small images for the gallery's tests: real PNGs stored through gallery.services."""

from __future__ import annotations

import datetime
import io
import itertools

from django.utils import timezone
from PIL import Image as PILImage

from gallery.models import Image
from gallery.services import create_image

_colours = itertools.count(1)


def png_bytes(colour: tuple[int, int, int] | None = None, size: tuple[int, int] = (8, 6)) -> bytes:
    """A tiny PNG; each call without a colour gives different bytes."""
    if colour is None:
        n = next(_colours)
        colour = (n * 37 % 256, n * 91 % 256, n * 13 % 256)
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def make_image(
    owner,
    *,
    team=None,
    prompt: str = "a lighthouse at dawn",
    endpoint: str = "flux/dev",
    created_at: datetime.datetime | None = None,
    **kwargs,
) -> Image:
    """A stored gallery image (file and WebP thumbnail), optionally shared and back-dated."""
    image = create_image(owner, png_bytes(), prompt=prompt, endpoint=endpoint, **kwargs)
    changes = {}
    if team is not None:
        changes["team"] = team
    if created_at is not None:
        changes["created_at"] = created_at
    if changes:
        Image.objects.filter(pk=image.pk).update(**changes)
        image.refresh_from_db()
    return image


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)
