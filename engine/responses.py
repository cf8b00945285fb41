"""JSON answers of the engine's API: every error is a JSON body with a ``detail`` sentence."""

from __future__ import annotations

from django.http import JsonResponse


def error(status: int, detail: str, **extra: object) -> JsonResponse:
    return JsonResponse({"detail": detail, **extra}, status=status)


def unauthorized() -> JsonResponse:
    response = error(401, "Missing or invalid API token. Send 'Authorization: Bearer <token>'.")
    response["WWW-Authenticate"] = 'Bearer realm="openjourney"'
    return response


def not_found(detail: str = "Not found.") -> JsonResponse:
    return error(404, detail)


def method_not_allowed(allowed: list[str]) -> JsonResponse:
    response = error(405, f"Method not allowed. Use {' or '.join(allowed)}.")
    response["Allow"] = ", ".join(allowed)
    return response


def too_many_requests(detail: str, retry_after: int) -> JsonResponse:
    response = error(429, detail)
    response["Retry-After"] = str(retry_after)
    return response
