"""Where the studio's signed media links point, and when the API is our own engine."""

from __future__ import annotations

import pytest

from gallery.links import api_is_local, public_base_url, public_base_warning, signed_media_url


@pytest.mark.parametrize(
    "api_url",
    [
        "http://127.0.0.1:8001/engine",  # make run: the engine's own server
        "http://127.0.0.1:8000/engine",  # the engine served by the web server
        "http://localhost:8001/engine",
        "http://[::1]:8001/engine",
        "http://engine:8000/engine",  # compose's engine service
        "http://web:8000/engine",
    ],
)
def test_our_own_engine_reads_storage_and_needs_no_warning(settings, api_url):
    settings.OPENJOURNEY_API_URL = api_url
    settings.PUBLIC_BASE_URL = ""
    assert api_is_local()
    assert public_base_warning() == ""


@pytest.mark.parametrize(
    "api_url",
    ["https://api.opj.app", "http://engine:8000/v1", "http://enginex:8000/engine"],
)
def test_anything_else_is_not_our_engine(settings, api_url):
    settings.OPENJOURNEY_API_URL = api_url
    assert not api_is_local()


def test_a_hosted_api_that_cannot_reach_a_private_studio_is_warned_about(settings):
    settings.OPENJOURNEY_API_URL = "https://api.opj.app"
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    assert "set PUBLIC_BASE_URL" in public_base_warning()


def test_a_hosted_api_without_a_public_base_url_is_warned_about(settings):
    # Links would otherwise name the API's own host, which serves none of our files.
    settings.OPENJOURNEY_API_URL = "https://api.opj.app"
    settings.PUBLIC_BASE_URL = ""
    assert "set PUBLIC_BASE_URL" in public_base_warning()


def test_a_hosted_api_and_a_public_studio_need_no_warning(settings, monkeypatch):
    settings.OPENJOURNEY_API_URL = "https://api.opj.app"
    settings.PUBLIC_BASE_URL = "https://studio.example.com"
    monkeypatch.setattr("gallery.links.check_link", lambda url: url)  # no DNS in tests
    assert public_base_warning() == ""


def test_links_name_the_public_base_url_when_set(settings):
    # As `make run` sets it with the engine on ENGINE_PORT: links name the web server.
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:8001/engine"
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000/"
    assert public_base_url() == "http://127.0.0.1:8000"
    assert signed_media_url("images/1/a.png", 1).startswith("http://127.0.0.1:8000/media/signed/")


def test_without_one_links_take_the_apis_address(settings):
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:8001/engine"
    settings.PUBLIC_BASE_URL = ""
    assert public_base_url() == "http://127.0.0.1:8001"
