"""Response headers the whole site shares, and what error reports may show."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.debug import SafeExceptionReporterFilter


class ContentSecurityPolicyMiddleware:
    """Sends ``CONTENT_SECURITY_POLICY`` with every response that has none of its own.

    Files set a stricter one themselves (gallery.views.file_response). Django's debug error
    page runs inline scripts, so in debug a 500 goes out without the header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        if settings.DEBUG and response.status_code >= 500:
            return response
        response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response


class AlwaysSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Hides what views mark sensitive (tokens, passwords) on debug error pages too.

    Django's own filter only works with DEBUG off; a debug page shown on a screen or pasted
    into an issue would otherwise carry the API token from a frame's variables.
    """

    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def cleanse_setting(self, key, value):
        """Also hides the password inside a service URL (``redis://:secret@host``), which
        Django's filter shows because the setting's name (REDIS_URL) looks harmless."""
        value = super().cleanse_setting(key, value)
        if isinstance(value, str) and "://" in value:
            try:
                password = urlsplit(value).password
            except ValueError:
                return value
            if password:
                return value.replace(f":{password}@", f":{self.cleansed_substitute}@", 1)
        return value
