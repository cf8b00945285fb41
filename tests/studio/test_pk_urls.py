"""pk_url builds exactly what reverse() builds, under any script prefix or URLconf."""

from __future__ import annotations

import sys
import types

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import (
    NoReverseMatch,
    clear_url_caches,
    get_script_prefix,
    include,
    path,
    reverse,
    set_script_prefix,
)

from gallery.models import Image
from studio.lib.pk_urls import pk_url

ROUTES = ["gallery:detail", "gallery:thumbnail", "gallery:favourite", "jobs:detail"]


@pytest.fixture
def script_prefix():
    """Restores the script prefix a test sets (it is per thread, not per request)."""
    before = get_script_prefix()
    yield set_script_prefix
    set_script_prefix(before)


@pytest.mark.parametrize("name", ROUTES)
@pytest.mark.parametrize("pk", [1, 7, 42, 10**12])
def test_pk_url_is_reverse(name, pk):
    assert pk_url(name, pk) == reverse(name, args=[pk])


@pytest.mark.parametrize("name", ROUTES)
def test_pk_url_follows_the_script_prefix(name, script_prefix):
    plain = pk_url(name, 5)
    script_prefix("/studio/")
    mounted = pk_url(name, 5)
    assert mounted == reverse(name, args=[5])
    assert mounted == "/studio" + plain


def test_pk_url_follows_the_urlconf():
    def view(request, pk):
        return HttpResponse()

    # The same route name in another URLconf, asked for after the project's was cached.
    urlconf = types.ModuleType("tests_pk_urls_conf")
    shown = [path("<int:pk>/shown", view, name="detail")]
    urlconf.urlpatterns = [path("elsewhere/", include((shown, "gallery")))]
    sys.modules[urlconf.__name__] = urlconf
    assert pk_url("gallery:detail", 3) == "/gallery/3/"
    try:
        with override_settings(ROOT_URLCONF=urlconf.__name__):
            assert pk_url("gallery:detail", 3) == "/elsewhere/3/shown"
            assert reverse("gallery:detail", args=[3]) == "/elsewhere/3/shown"
    finally:
        del sys.modules[urlconf.__name__]
        clear_url_caches()
    assert pk_url("gallery:detail", 3) == "/gallery/3/"


def test_a_route_without_exactly_one_number_is_refused():
    with pytest.raises(NoReverseMatch):
        pk_url("gallery:list", 1)  # takes no argument, as reverse() would say
    with pytest.raises(ValueError):
        pk_url("gallery:detail", "1/../../admin")  # not a number


def test_image_links_are_its_routes():
    image = Image(pk=9)
    assert image.get_absolute_url() == reverse("gallery:detail", args=[9])
    assert image.thumbnail_url == reverse("gallery:thumbnail", args=[9])
    assert image.favourite_url == reverse("gallery:favourite", args=[9])
