"""Sharing one image: with a team (its author), and by a signed, expiring public link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from gallery.models import Image, ShareLink
from gallery.sharing import create_share_link, share_link_token
from teams.models import Role, Team
from tests.conftest import client_for, html
from tests.factories import ImageFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def public_url(link: ShareLink) -> str:
    return reverse("sharing:public-image", args=[share_link_token(link)])


def public_file_url(link: ShareLink) -> str:
    return reverse("sharing:public-image-file", args=[share_link_token(link)])


# --- public links ---------------------------------------------------------------------------


@pytest.mark.parametrize("days", [1, 7, 30])
def test_owner_makes_a_link_anyone_can_open(owner_client, owner, client, days):
    image = ImageFactory(owner=owner, prompt="a <b>bold</b> fox")
    response = owner_client.post(reverse("sharing:link-create", args=[image.pk]), {"days": days})
    assert response.status_code == 302
    link = ShareLink.objects.get(image=image)
    expected = timezone.now() + timedelta(days=days)
    assert abs((link.expires_at - expected).total_seconds()) < 60

    panel = html(owner_client.get(reverse("sharing:image-sharing", args=[image.pk])))
    [url] = re.findall(r'value="(http://testserver/teams/s/[^"]+/)"', panel)

    page = client.get(url)  # signed out
    assert page.status_code == 200
    assert "a &lt;b&gt;bold&lt;/b&gt; fox" in html(page) and "<b>bold</b>" not in html(page)
    assert page["X-Robots-Tag"] == "noindex"
    file = client.get(url + "file")
    assert file.status_code == 200 and file["Content-Type"] == "image/png"
    assert file["X-Content-Type-Options"] == "nosniff"
    assert b"".join(file.streaming_content).startswith(b"\x89PNG")


def test_svg_keeps_the_gallery_csp(owner, client):
    image = ImageFactory(owner=owner, svg=True)
    link = create_share_link(image, owner, 1)
    response = client.get(public_file_url(link))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    assert response["X-Content-Type-Options"] == "nosniff"


def test_expired_revoked_and_tampered_links_are_404(owner_client, owner, client):
    image = ImageFactory(owner=owner)
    expired = create_share_link(image, owner, 1)
    ShareLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = create_share_link(image, owner, 7)
    assert owner_client.post(reverse("sharing:link-revoke", args=[revoked.pk])).status_code == 302
    live = create_share_link(image, owner, 7)
    value = share_link_token(live)
    for url in (
        public_url(expired),
        public_file_url(expired),
        public_url(revoked),
        public_file_url(revoked),
        reverse("sharing:public-image", args=[value[:-1] + ("A" if value[-1] != "A" else "B")]),
        reverse("sharing:public-image-file", args=["MQ:forged:signature"]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(public_url(live)).status_code == 200


def test_a_deleted_image_takes_its_links(owner, client):
    image = ImageFactory(owner=owner)
    link = create_share_link(image, owner, 7)
    url = public_url(link)
    image.delete()
    assert client.get(url).status_code == 404


def test_team_editor_may_link_team_images_viewer_and_outsider_may_not(
    member_client, viewer_client, outsider_client, owner, team
):
    image = ImageFactory(owner=owner, team=team)
    url = reverse("sharing:link-create", args=[image.pk])
    assert viewer_client.post(url, {"days": 7}).status_code == 404
    assert outsider_client.post(url, {"days": 7}).status_code == 404
    assert not ShareLink.objects.exists()
    assert member_client.post(url, {"days": 7}).status_code == 302
    link = ShareLink.objects.get()
    revoke = reverse("sharing:link-revoke", args=[link.pk])
    assert viewer_client.post(revoke).status_code == 404
    assert outsider_client.post(revoke).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def test_viewer_sees_no_links_in_the_panel(viewer_client, owner, team):
    image = ImageFactory(owner=owner, team=team)
    link = create_share_link(image, owner, 7)
    panel = html(viewer_client.get(reverse("sharing:image-sharing", args=[image.pk])))
    assert link.is_live and "/teams/s/" not in panel
    assert "Make a public link" not in panel


def test_bad_duration_is_refused(owner_client, owner):
    image = ImageFactory(owner=owner)
    response = owner_client.post(reverse("sharing:link-create", args=[image.pk]), {"days": 3})
    assert response.status_code == 422
    assert not ShareLink.objects.exists()


def without_csrf(page: str) -> str:
    """The page without its CSRF tokens, which differ from one response to the next."""
    return re.sub(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">', "", page)


def test_the_image_page_shows_the_panel_its_fragment_refreshes(owner_client, owner, team):
    """One builder: the image's page holds the very panel that the sharing URL answers to
    HTMX (after a share, a link made or withdrawn), not a placeholder that loads it."""
    image = ImageFactory(owner=owner)
    create_share_link(image, owner, 7)
    page = html(owner_client.get(reverse("gallery:detail", args=[image.pk])))
    fragment = owner_client.get(
        reverse("sharing:image-sharing", args=[image.pk]), headers={"HX-Request": "true"}
    )
    panel = without_csrf(html(fragment)).strip()
    assert "<html" not in panel and panel.startswith(
        '<section class="card sharing" id="image-sharing">'
    )
    assert "/teams/s/" in panel and team.name in panel  # its link, and a team to share with
    assert panel in without_csrf(page)
    assert f'hx-get="{reverse("sharing:image-sharing", args=[image.pk])}"' not in page


# --- sharing with a team --------------------------------------------------------------------


def test_author_shares_with_a_team_and_members_see_it(owner, member, team):
    image = ImageFactory(owner=member)
    viewer_of_team = client_for(owner)
    assert viewer_of_team.get(reverse("gallery:detail", args=[image.pk])).status_code == 404

    response = client_for(member).post(
        reverse("sharing:image-share", args=[image.pk]), {"team": team.pk}
    )
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.team == team
    assert viewer_of_team.get(reverse("gallery:detail", args=[image.pk])).status_code == 200

    client_for(member).post(reverse("sharing:image-share", args=[image.pk]), {"team": ""})
    image.refresh_from_db()
    assert image.team is None
    assert viewer_of_team.get(reverse("gallery:detail", args=[image.pk])).status_code == 404


def test_cannot_share_with_a_team_one_only_views(viewer, owner, team):
    image = ImageFactory(owner=viewer)
    other = Team.objects.create(name="Someone else's")
    MembershipFactory(team=other, user=owner, role=Role.OWNER)
    client = client_for(viewer)
    for target in (team.pk, other.pk):
        response = client.post(reverse("sharing:image-share", args=[image.pk]), {"team": target})
        assert response.status_code == 422
    image.refresh_from_db()
    assert image.team is None


def test_only_the_author_moves_an_image(member_client, owner, team):
    image = ImageFactory(owner=owner, team=team)
    response = member_client.post(reverse("sharing:image-share", args=[image.pk]), {"team": ""})
    assert response.status_code == 403
    assert Image.objects.get(pk=image.pk).team == team


def test_outsider_cannot_touch_anothers_image(outsider_client, owner):
    image = ImageFactory(owner=owner)
    assert outsider_client.get(reverse("sharing:image-sharing", args=[image.pk])).status_code == 404
    share = reverse("sharing:image-share", args=[image.pk])
    assert outsider_client.post(share, {"team": ""}).status_code == 404
