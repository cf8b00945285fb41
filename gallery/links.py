"""Signed, expiring links to stored files, for the API to fetch (see openjourney.links).

Each link names the user it was minted for; ``gallery.views.signed_media`` serves it only
while that user may see the image, and only for ``MEDIA_LINK_MAX_AGE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing

from gallery.metadata import signed_link_name
from gallery.models import Image
from openjourney.links import (
    MEDIA_LINK_MAX_AGE,
    MEDIA_LINK_NAME,
    MEDIA_LINK_PATH,
    MEDIA_LINK_SALT,
    MEDIA_LINK_USER,
)
from openjourney.netcheck import UnsafeLink, check_link


def api_is_local() -> bool:
    """Whether the API is this project's own engine (it reads our storage directly)."""
    api = urlsplit(settings.OPENJOURNEY_API_URL)
    return api.path.rstrip("/").endswith("/engine") and api.hostname in (
        "127.0.0.1",
        "localhost",
        "::1",
        # compose's services: the engine's own, and web (which serves /engine/ too).
        "engine",
        "web",
    )


def public_base_url() -> str:
    """Where the API can reach the studio: PUBLIC_BASE_URL, else the local address."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/")
    api = urlsplit(settings.OPENJOURNEY_API_URL)
    return f"{api.scheme}://{api.netloc}"


def public_base_warning() -> str:
    """A sentence for the form when the hosted API cannot fetch our links, else ""."""
    if api_is_local():
        return ""
    if not settings.PUBLIC_BASE_URL:
        # The fallback (the API's own address) is right only for our engine.
        return (
            f"The API at {urlsplit(settings.OPENJOURNEY_API_URL).netloc} fetches uploads and "
            "gallery images from this studio: set PUBLIC_BASE_URL to the studio's public "
            "address to use them."
        )
    base = public_base_url()
    try:
        check_link(base + "/")
    except UnsafeLink:
        return (
            f"The API at {urlsplit(settings.OPENJOURNEY_API_URL).netloc} cannot fetch images "
            f"from {base}: set PUBLIC_BASE_URL to this studio's public address to use "
            "uploads and gallery images."
        )
    return ""


def signed_media_url(name: str, user_id: int) -> str:
    """A link for the API to fetch the stored file ``name`` with, minted for ``user_id``:
    it serves the file while that user may see it, for ``MEDIA_LINK_MAX_AGE``."""
    payload = {MEDIA_LINK_NAME: name, MEDIA_LINK_USER: user_id}
    value = signing.dumps(payload, salt=MEDIA_LINK_SALT, compress=True)
    return f"{public_base_url()}{MEDIA_LINK_PATH}{value}"


class SignedMedia(NamedTuple):
    """What a signed media link says: the stored file, and whom it was minted for."""

    name: str
    user_id: int


def read_signed_value(value: str) -> SignedMedia | None:
    """What a signed link says, or None when forged, expired, or minted for no one (the
    links made before they named their user)."""
    try:
        payload = signing.loads(value, salt=MEDIA_LINK_SALT, max_age=MEDIA_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    name, user_id = payload.get(MEDIA_LINK_NAME), payload.get(MEDIA_LINK_USER)
    if not isinstance(name, str) or type(user_id) is not int:
        return None
    return SignedMedia(name, user_id)


class MediaGone(Exception):
    """A stored image a link names that its user may no longer see (or that is gone)."""


def fresh_media_links(body: dict, fields: Iterable[str], user_id: int) -> dict:
    """``body`` with our media links among ``fields`` signed again, now, for ``user_id``
    (a job's inputs as it is sent: a link it was created with may have expired since).

    Only while the user may still see each image (our engine reads the file straight from
    storage, without asking): MediaGone otherwise. Links to anything else stay as they are.
    """
    body = dict(body)
    for field in fields:
        name = signed_link_name(body.get(field))
        if name is None:
            continue
        if not Image.objects.visible_to(user_id).filter(file=name).exists():
            raise MediaGone("An image this job uses is gone, or no longer yours to use.")
        body[field] = signed_media_url(name, user_id)
    return body


class ShownInput(NamedTuple):
    """A job's input as a page shows it: our media links never appear as themselves."""

    text: str  # the value, for anything but our links
    image: Image | None = None  # the gallery image one of our links names, when visible
    hidden: bool = False  # one of our links, to an image gone or no longer the user's


def shown_input(value: object, user) -> ShownInput:
    """``value`` (an input of a job, or a param of its image) for ``user``'s page: one of
    our signed links is shown as the gallery image it names, while the user may see it."""
    name = signed_link_name(value)
    if name is None:
        return ShownInput(str(value))
    image = Image.objects.visible_to(user).filter(file=name).first()
    return ShownInput("", image=image, hidden=image is None)
