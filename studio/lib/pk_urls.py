"""URLs of routes that take one integer, built without ``reverse()`` per object.

A gallery page shows 48 tiles with three links each; ``reverse()`` (and the ``{% url %}``
tag around it) costs about 60 µs a call, a fifth of the page's Python. The route's
text around its number never changes within one URLconf and script prefix, so it is
reversed once with a marker number, split there, and every later URL is joined from the
two halves. The result is exactly ``reverse(name, args=[pk])`` (tests/studio/test_pk_urls.py).
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# A number no route's converter would change (only digits) and no real id will ever reach.
_MARKER = "9081726354453627189"


@lru_cache(maxsize=256)
def _halves(name: str, urlconf: str, script_prefix: str) -> tuple[str, str]:
    # The script prefix is read by reverse() itself; it is in the key so that each prefix
    # (each mount point of the studio) gets its own halves.
    url = reverse(name, urlconf=urlconf, args=[_MARKER])
    head, marker, tail = url.partition(_MARKER)
    if not marker or _MARKER in tail:
        raise ValueError(f"route {name!r} does not take exactly one number")
    return head, tail


def pk_url(name: str, pk: int) -> str:
    """``reverse(name, args=[pk])`` for a route whose only argument is an integer."""
    head, tail = _halves(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    return f"{head}{int(pk)}{tail}"
