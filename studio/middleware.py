"""Response headers the whole site shares."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


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
