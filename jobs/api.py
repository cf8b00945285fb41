"""The one Openjourney client of this process, configured from settings."""

from __future__ import annotations

import threading

from django.conf import settings

from openjourney.client import OpenjourneyClient

_lock = threading.Lock()
_clients: dict[tuple[str, str | None], OpenjourneyClient] = {}


def get_client() -> OpenjourneyClient:
    """A shared client (its connection pool is reused) for the configured API and token."""
    key = (settings.OPENJOURNEY_API_URL, settings.OPENJOURNEY_API_TOKEN)
    with _lock:
        client = _clients.get(key)
        if client is None:
            # The studio's own retries live in its tasks; the client retries briefly.
            client = OpenjourneyClient(key[0], key[1], max_retries=2)
            _clients[key] = client
        return client
