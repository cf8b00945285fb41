"""The Openjourney clients of this process: the site's, and one per team with its own token;
and the API's health, as the header and the create forms show it."""

from __future__ import annotations

import threading

import httpx
from django.conf import settings
from django.core.cache import cache
from django.views.decorators.debug import sensitive_variables

from openjourney.client import ApiError, OpenjourneyClient, Unauthorized
from teams.crypto import TokenUnreadable
from teams.tokens import team_api_token

_lock = threading.Lock()
_clients: dict[tuple[str, str | None, float, float], OpenjourneyClient] = {}
# Old team tokens (replaced ones) are dropped past this many clients.
MAX_CLIENTS = 64
HEALTH_CACHE_SECONDS = 10


@sensitive_variables("token", "key")
def get_client(team=None) -> OpenjourneyClient:
    """A shared client (its connection pool is reused) for the configured API.

    With a ``team`` that stores a token of its own, the client uses that token (the team's
    jobs run and are billed on it); otherwise the site's token. A team token that can't be
    decrypted any more raises Unauthorized, which fails the job with a sentence saying so.
    """
    token = settings.OPENJOURNEY_API_TOKEN
    if team is not None and team.api_token_encrypted:
        try:
            token = team_api_token(team)
        except TokenUnreadable as error:
            raise Unauthorized(str(error)) from None
    key = (
        settings.OPENJOURNEY_API_URL,
        token,
        settings.OPENJOURNEY_TIMEOUT,
        settings.STUDIO_RESULT_TIMEOUT,
    )
    with _lock:
        client = _clients.get(key)
        if client is None:
            if len(_clients) >= MAX_CLIENTS:
                _clients.pop(next(iter(_clients)))
            # The studio's own retries live in its tasks; the client retries briefly.
            timeout = httpx.Timeout(settings.OPENJOURNEY_TIMEOUT, connect=5.0)
            client = OpenjourneyClient(
                key[0], key[1], timeout=timeout, max_retries=2, download_timeout=key[3]
            )
            _clients[key] = client
        return client


def upstream_health() -> dict:
    """The API's ping, cached briefly: shown in the header and on every form."""
    health = cache.get("studio:upstream-health")
    if health is None:
        try:
            ping = get_client().ping(retries=0)
            health = {"ok": ping.get("status") == "ok", "detail": ""}
        except ApiError as error:
            health = {"ok": False, "detail": str(error)}
        cache.set("studio:upstream-health", health, HEALTH_CACHE_SECONDS)
    return health
