"""In a real browser: browse the gallery, scroll for more, search, open an image."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image as PILImage

from gallery.models import Image
from gallery.services import create_image

pytestmark = pytest.mark.django_db(transaction=True)


def png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 32), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def gallery(stack, owner):
    now = timezone.now()
    for number in range(60):
        prompt = "a red lighthouse" if number % 10 == 0 else f"a quiet field {number}"
        image = create_image(
            owner, png((number * 4, 80, 160)), endpoint="flux/dev", prompt=prompt, seed=number
        )
        # One a minute, oldest first, so the order is known.
        Image.objects.filter(pk=image.pk).update(created_at=now - timedelta(minutes=60 - number))
    return Image.objects.order_by("-created_at")


def test_browse_scroll_search_and_open(signed_in_page, gallery):
    page = signed_in_page
    page.goto("/gallery/")
    tiles = page.locator("#gallery-results .tile")
    assert tiles.count() == 48
    newest = gallery.first()
    assert (
        page.get_attribute("#gallery-results .tile a.tile-link", "href") == f"/gallery/{newest.pk}/"
    )

    # Infinite scroll: the last tiles arrive as the "Older images" link comes into view.
    page.evaluate("window.__noReload = true")
    page.locator("text=Older images").scroll_into_view_if_needed()
    # A function, not an expression string: the CSP forbids the eval Playwright would use.
    page.wait_for_function(
        "() => document.querySelectorAll('#gallery-results .tile').length === 60"
    )
    assert page.evaluate("window.__noReload") is True

    # Search: the filter lives in the URL.
    page.fill("input[name=q]", "lighthouse")
    page.click("button:has-text('Search')")
    page.wait_for_function("() => document.querySelectorAll('#gallery-results .tile').length === 6")
    assert "q=lighthouse" in page.url

    page.locator("#gallery-results .tile a.tile-link").first.click()
    page.wait_for_url("**/gallery/*/")
    assert "a red lighthouse" in page.inner_text("main")
    assert page.evaluate("document.querySelector('figure img').naturalWidth") == 32
