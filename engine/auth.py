"""Bearer-token authentication for the engine's API."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from engine.models import ApiToken


def bearer_value(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def authenticate(request: HttpRequest) -> ApiToken | None:
    """The live token the request carries, or None."""
    token = ApiToken.objects.for_bearer(bearer_value(request))
    if token is not None:
        now = timezone.now()
        # Written at most once a minute: a busy poller shouldn't write on every GET.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
