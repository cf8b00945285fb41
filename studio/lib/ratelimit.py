"""Rate limits: how many attempts one user (or one address) may make in a window.

Counted in the ``ratelimit`` cache (Redis by default, so every web process counts
together) as fixed windows: one counter per key and window, created with ``add`` and
raised with ``incr``, both atomic in Redis. An attempt is counted before it is made
(``reserve_attempts``), so that concurrent attempts cannot all pass a limit together, and
given back when it turns out not to count. A cache that cannot be reached lets the
request through, logged: an outage of Redis must not lock everyone out.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Attempt:
    """One attempt counted in its window's counter; ``release`` takes it back."""

    scope: str
    cache_key: str

    def release(self) -> None:
        try:
            caches[settings.RATELIMIT_CACHE].decr(self.cache_key)
        except Exception:  # the window ended (the counter expired) or the cache is down
            logger.info("Rate limit %s: an attempt could not be given back.", self.scope)


def _count(scope: str, key: str, window: int) -> tuple[Attempt, int, float] | None:
    """Raise the counter of ``key`` in this window by one: (attempt, new count, seconds
    left), or None when the cache is unreachable."""
    cache_key, left = _key(scope, key, window)
    cache = caches[settings.RATELIMIT_CACHE]
    try:
        cache.add(cache_key, 0, timeout=window + 1)
        count = cache.incr(cache_key)
    except Exception:  # the cache is down: let the request through
        logger.warning("Rate limit %s not counted: the cache is unreachable.", scope)
        return None
    return Attempt(scope, cache_key), count, left


def count_attempt(scope: str, key: str, *, limit: int, window: int, message: str) -> None:
    """Count one attempt; RateLimited when it is above ``limit`` in this window.

    ``limit`` 0 turns the limit off. ``message`` may name ``{seconds}``.
    """
    if limit <= 0:
        return
    counted = _count(scope, key, window)
    if counted is None:
        return
    _, count, left = counted
    if count > limit:
        raise RateLimited(message.format(seconds=_wait(left)), _wait(left))


def reserve_attempts(
    limits: Iterable[tuple[str, str, int]], *, window: int, message: str
) -> list[Attempt]:
    """Count one attempt under each ``(scope, key, limit)`` before the attempt is made.

    Each counter is raised atomically first and compared after, so of any number of
    concurrent attempts at most ``limit`` get through: checking first and counting once the
    attempt had failed let every attempt made meanwhile through. RateLimited when one
    counter is above its limit; the attempt is then not made and none of its counts stays.
    The caller releases the returned attempts when the attempt turns out not to count (a
    sign-in that succeeded). A limit of 0 is off.
    """
    taken: list[Attempt] = []
    for scope, key, limit in limits:
        if limit <= 0:
            continue
        counted = _count(scope, key, window)
        if counted is None:
            continue
        attempt, count, left = counted
        taken.append(attempt)
        if count > limit:
            for each in taken:
                each.release()
            raise RateLimited(message.format(seconds=_wait(left)), _wait(left))
    return taken


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
