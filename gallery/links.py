"""Signed, expiring links to stored files, for the API to fetch (see openjourney.links)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing

from openjourney.links import MEDIA_LINK_MAX_AGE, MEDIA_LINK_PATH, MEDIA_LINK_SALT
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


def signed_media_url(name: str) -> str:
    value = signing.dumps({"n": name}, salt=MEDIA_LINK_SALT, compress=True)
    return f"{public_base_url()}{MEDIA_LINK_PATH}{value}"


def read_signed_value(value: str) -> str | None:
    """The storage name a signed link points at, or None when forged or expired."""
    try:
        payload = signing.loads(value, salt=MEDIA_LINK_SALT, max_age=MEDIA_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    name = payload.get("n") if isinstance(payload, dict) else None
    return name if isinstance(name, str) else None
