"""Response headers the whole site shares, and what error reports may show."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.debug import SafeExceptionReporterFilter
from whitenoise.middleware import WhiteNoiseMiddleware


class ContentSecurityPolicyMiddleware:
    """Sends ``CONTENT_SECURITY_POLICY`` with every response that has none of its own.

    Files set a stricter one themselves (gallery.files.file_response). Django's debug error
    page runs inline scripts, so in debug a 500 goes out without the header.
    """

    # Both, so that under ASGI a request does not hop to a thread and back for a header.
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.is_async:
            return self._acall(request)
        return self._with_policy(self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return self._with_policy(await self.get_response(request))

    def _with_policy(self, response: HttpResponse) -> HttpResponse:
        if "Content-Security-Policy" in response:
            return response
        if settings.DEBUG and response.status_code >= 500:
            return response
        response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise's static files, in an async middleware chain as well as a sync one.

    WhiteNoise's own middleware is sync only: under ASGI every request then hopped from the
    event loop to a thread and back around it before reaching the view's own thread. Here a
    request that is not for a static file goes straight on; one that is opens its file in a
    thread, as any file access under ASGI.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response, settings=settings) -> None:
        super().__init__(get_response, settings=settings)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.is_async:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        if self.autorefresh:
            # Debug: looked up on disk at each request.
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)


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
