"""In a real browser: share an image with a team from its page, then see it as another member."""

from __future__ import annotations

import pytest

from gallery.models import Image
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_share_with_a_team_and_see_it_as_another_member(
    signed_in_page, _browser, stack, owner, member, team, password
):
    image = ImageFactory(owner=owner, prompt="a harbour at night")
    page = signed_in_page
    page.goto(f"/gallery/{image.pk}/")
    # The sharing panel comes in by itself; its form swaps in place.
    page.wait_for_selector("#image-sharing select[name=team]")
    page.select_option("#image-sharing select[name=team]", str(team.pk))
    page.click("#image-sharing button:has-text('Save')")
    page.wait_for_selector("#image-sharing >> text=Shared with Studio team.")
    assert Image.objects.get(pk=image.pk).team == team

    context = _browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900})
    other = context.new_page()
    other.set_default_timeout(20_000)
    other.goto("/accounts/login/")
    other.fill("#id_username", member.username)
    other.fill("#id_password", password)
    other.click("button[type=submit]")
    other.wait_for_url("**/")
    other.goto(f"/teams/{team.pk}/")
    other.click("text=Team gallery (1)")
    other.wait_for_selector(f"a[href='/gallery/{image.pk}/'] img")
    other.click(f"a[href='/gallery/{image.pk}/']")
    other.wait_for_selector("text=a harbour at night")
    assert other.evaluate("document.querySelector('.image-full img').naturalWidth") > 0
    assert "Author" in other.inner_text("main") and "owner" in other.inner_text("main")
    context.close()
