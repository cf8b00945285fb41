"""Every studio page needs a signed-in user, and shares one layout."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

STUDIO_PAGES = [
    "studio:home",
    "create:index",
    "jobs:list",
    "gallery:list",
    "teams:list",
    "accounts:password_change",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", STUDIO_PAGES)
def test_anonymous_visitor_is_sent_to_sign_in(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", STUDIO_PAGES)
def test_signed_in_user_sees_the_page(owner_client, name):
    response = owner_client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("Create", "Jobs", "Gallery", "Teams"):
        assert f">{section}</a>" in html
    assert "owner" in html


@pytest.mark.django_db
def test_layout_sends_csrf_on_htmx_requests_and_serves_htmx_itself(owner_client):
    response = owner_client.get(reverse("studio:home"))
    html = response.content.decode()
    token = response.context["csrf_token"]
    assert f'hx-headers=\'{{"X-CSRFToken": "{token}"}}\'' in html
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    htmx = [src for src in scripts if "htmx" in src]
    assert htmx, scripts
    for src in scripts:
        assert src.startswith("/static/"), f"{src} is not served by the studio itself"
    # No inline scripts: every <script> has a src.
    assert len(re.findall(r"<script\b", html)) == len(scripts)


@pytest.mark.django_db
def test_static_files_are_served_by_whitenoise(owner_client):
    html = owner_client.get(reverse("studio:home")).content.decode()
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        response = owner_client.get(src)
        assert response.status_code == 200, src
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body, f"{src} is empty"


@pytest.mark.django_db
def test_current_section_is_marked(owner_client):
    html = owner_client.get(reverse("jobs:list")).content.decode()
    assert f'<a href="{reverse("jobs:list")}" aria-current="page">Jobs</a>' in html


@pytest.mark.django_db
def test_admin_is_for_staff_only(client, owner, password):
    client.force_login(owner)
    assert client.get("/admin/").status_code == 302
    owner.is_staff = owner.is_superuser = True
    owner.save()
    assert client.get("/admin/").status_code == 200
