"""Under ASGI the middleware chain runs async end to end: no hop to a thread and back
around a sync-only middleware before the view's own thread."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from studio.middleware import StaticFilesMiddleware

STUDIO_JS = Path(settings.BASE_DIR) / "static" / "js" / "studio.js"


def test_no_middleware_is_adapted_under_asgi(caplog):
    # Django logs each sync-only middleware it wraps for an async chain.
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        ASGIHandler()
    adapted = [r.getMessage() for r in caplog.records if "adapted" in r.getMessage()]
    assert adapted == []


async def _view(request):
    return HttpResponse("from the view")


@pytest.mark.anyio
@pytest.mark.parametrize("autorefresh", [False, True])
async def test_static_files_are_served_in_an_async_chain(autorefresh):
    with override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=autorefresh):
        middleware = StaticFilesMiddleware(_view)
    response = await middleware(RequestFactory().get("/static/js/studio.js"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == STUDIO_JS.read_bytes()
    other = await middleware(RequestFactory().get("/gallery/"))
    assert other.content == b"from the view"


def test_static_files_are_served_in_a_sync_chain():
    with override_settings(WHITENOISE_USE_FINDERS=True):
        middleware = StaticFilesMiddleware(lambda request: HttpResponse("from the view"))
    response = middleware(RequestFactory().get("/static/js/studio.js"))
    assert b"".join(response.streaming_content) == STUDIO_JS.read_bytes()
    assert middleware(RequestFactory().get("/gallery/")).content == b"from the view"


@pytest.mark.anyio
@pytest.mark.django_db
async def test_pages_keep_their_policy_header_under_asgi(async_client):
    response = await async_client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
