"""Rate limits: how many attempts one user (or one address) may make in a window.

Counted in the ``ratelimit`` cache (Redis by default, so every web process counts
together) as fixed windows: one counter per key and window, created with ``add`` and
raised with ``incr``, both atomic in Redis. A cache that cannot be reached lets the
request through, logged: an outage of Redis must not lock everyone out.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)


class RateLimited(Exception):
    """Too many attempts; ``retry_after`` says in how many seconds to try again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def client_address(request: HttpRequest) -> str:
    """The address the request came from, seen through ``TRUSTED_PROXY_COUNT`` proxies.

    Behind proxies ``REMOTE_ADDR`` is the nearest proxy's, the same for everyone (one
    client's failures would hold up all sign-ins). Each proxy appends to
    X-Forwarded-For the address it was reached from, so with N trusted proxies the client
    is the N-th entry from the right; entries further left are the client's own to forge.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    candidate = hops[-trusted] if len(hops) >= trusted else hops[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote  # not an address: our proxies would not write that


def _key(scope: str, key: str, window: int) -> tuple[str, float]:
    now = time.time()
    start = int(now // window) * window
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # no user input in cache keys
    return f"rl:{scope}:{digest}:{start}", start + window - now


def _wait(seconds_left: float) -> int:
    return max(1, math.ceil(seconds_left))


def count_attempt(scope: str, key: str, *, limit: int, window: int, message: str) -> None:
    """Count one attempt; RateLimited when it is above ``limit`` in this window.

    ``limit`` 0 turns the limit off. ``message`` may name ``{seconds}``.
    """
    if limit <= 0:
        return
    cache_key, left = _key(scope, key, window)
    cache = caches[settings.RATELIMIT_CACHE]
    try:
        cache.add(cache_key, 0, timeout=window + 1)
        count = cache.incr(cache_key)
    except Exception:  # the cache is down: let the request through
        logger.warning("Rate limit %s not counted: the cache is unreachable.", scope)
        return
    if count > limit:
        raise RateLimited(message.format(seconds=_wait(left)), _wait(left))


def check_limit(scope: str, key: str, *, limit: int, window: int, message: str) -> None:
    """RateLimited if ``limit`` attempts were already counted in this window; counts none."""
    if limit <= 0:
        return
    cache_key, left = _key(scope, key, window)
    try:
        count = caches[settings.RATELIMIT_CACHE].get(cache_key, 0)
    except Exception:
        logger.warning("Rate limit %s not checked: the cache is unreachable.", scope)
        return
    if count >= limit:
        raise RateLimited(message.format(seconds=_wait(left)), _wait(left))


def limit_submits(user) -> None:
    """One submit (a create form, re-run, variations, retry) by ``user``; RateLimited when
    there were more than SUBMIT_RATE_LIMIT in SUBMIT_RATE_WINDOW seconds."""
    count_attempt(
        "submit",
        str(user.pk),
        limit=settings.SUBMIT_RATE_LIMIT,
        window=settings.SUBMIT_RATE_WINDOW,
        message="You are submitting too fast: wait {seconds} seconds, then try again.",
    )


def too_many(response: HttpResponse, refusal: RateLimited) -> HttpResponse:
    """``response`` as HTTP 429 with the Retry-After the refusal says."""
    response.status_code = 429
    response["Retry-After"] = str(refusal.retry_after)
    return response
