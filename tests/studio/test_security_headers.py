"""Headers that hold for the whole site: the Content Security Policy, and media files'.

The policy allows no inline script; so no template may hold one (nor an on*= handler, nor
a javascript: link), which the template scan below checks, and the rendered pages too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from gallery.sharing import create_share_link, share_link_token
from tests.conftest import client_for
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

TEMPLATES = sorted((Path(settings.BASE_DIR) / "templates").rglob("*.html"))
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
HANDLER = re.compile(r"""<[^>]*\son[a-z]+\s*=""", re.I | re.S)


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in header.split(";"))
        if part
    }


def test_templates_hold_no_inline_script_or_handler():
    assert TEMPLATES
    for template in TEMPLATES:
        text = template.read_text()
        for attributes in SCRIPT_TAG.findall(text):
            assert "src=" in attributes, f"{template.name}: an inline <script>"
        assert not HANDLER.search(text), f"{template.name}: an on*= handler"
        assert "javascript:" not in text.lower(), f"{template.name}: a javascript: link"
        assert "<style" not in text.lower(), f"{template.name}: a <style> element"


@pytest.mark.parametrize(
    "name",
    ["studio:home", "create:index", "gallery:list", "jobs:list", "teams:list", "admin:index"],
)
def test_pages_allow_only_our_own_scripts(owner, name):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    response = client_for(owner).get(reverse(name))
    assert response.status_code == 200
    csp = policy(response)
    assert csp["script-src"] == "'self'"
    assert "unsafe" not in csp.get("style-src", "") and "unsafe-eval" not in str(csp)
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    body = response.content.decode()
    for attributes in SCRIPT_TAG.findall(body):
        assert "src=" in attributes or "application/json" in attributes, attributes
    assert not HANDLER.search(body)


def test_signed_out_pages_have_the_policy_too(client):
    response = client.get(reverse("accounts:login"))
    assert policy(response)["script-src"] == "'self'"


def test_htmx_adds_no_style_element_and_evaluates_nothing(owner):
    body = client_for(owner).get(reverse("studio:home")).content.decode()
    assert '"includeIndicatorStyles": false' in body and '"allowEval": false' in body


@pytest.mark.parametrize("svg", [False, True])
def test_media_files_are_sandboxed_and_not_sniffed(owner, client, svg):
    image = ImageFactory(owner=owner, svg=svg)
    link = create_share_link(image, owner, 1)
    for response in (
        client_for(owner).get(reverse("gallery:file", args=[image.pk])),
        client.get(reverse("sharing:public-image-file", args=[share_link_token(link)])),
    ):
        assert response.status_code == 200
        assert response["X-Content-Type-Options"] == "nosniff"
        csp = policy(response)
        assert csp["default-src"] == "'none'" and "sandbox" in csp
        assert "script-src" not in csp
        expected = "image/svg+xml" if svg else "image/png"
        assert response["Content-Type"] == expected


def test_svg_download_is_an_attachment(owner):
    image = ImageFactory(owner=owner, svg=True)
    response = client_for(owner).get(reverse("gallery:file", args=[image.pk]) + "?download=1")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Disposition"].endswith('.svg"')
