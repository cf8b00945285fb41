"""The seam between the engine and the studio: the studio's signed media links.

Utility inputs picked from the studio's gallery arrive as the studio's signed, expiring
links (``/media/signed/<value>``, see ``openjourney/links.py``). The engine does not fetch
them over HTTP: it checks their signature here and ``engine.fetch`` reads the named file
from the media storage, which the engine shares with the studio (the same ``STORAGES`` and
``SECRET_KEY``, from ``engine/settings.py``), whichever host the link names.

This module is the one place where the engine relies on what the studio writes: the link's
format, its key and salt, and that its files are in the shared storage. An engine deployed
without the studio's storage changes only this (docs/engine.md, "The seam").
"""

from __future__ import annotations

from django.core import signing

from openjourney.links import MEDIA_LINK_MAX_AGE, MEDIA_LINK_PATH, MEDIA_LINK_SALT


class InvalidMediaLink(ValueError):
    """A studio media link whose signature does not hold, or that has expired."""


def media_link_name(path: str) -> str | None:
    """The storage name behind a studio media link's (unquoted) URL path.

    None when ``path`` is not a studio media link; InvalidMediaLink when it is one but
    tampered with, expired or naming nothing.
    """
    if not path.startswith(MEDIA_LINK_PATH):
        return None
    value = path.removeprefix(MEDIA_LINK_PATH).strip("/")
    try:
        payload = signing.loads(value, salt=MEDIA_LINK_SALT, max_age=MEDIA_LINK_MAX_AGE)
        return payload["n"]
    except (signing.BadSignature, KeyError, TypeError):
        raise InvalidMediaLink("The studio image link is invalid or has expired.") from None
