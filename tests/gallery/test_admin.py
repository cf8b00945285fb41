"""The gallery's admin pages: a superuser lists, filters, searches and reads images and
collections; none is edited or added there (gallery.services makes an image's files)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import html
from tests.factories import CollectionFactory, ImageFactory

pytestmark = pytest.mark.django_db

IMAGES = reverse("admin:gallery_image_changelist")
COLLECTIONS = reverse("admin:gallery_collection_changelist")


def test_the_image_changelist_lists_filters_and_searches(admin_client, owner, team):
    lighthouse = ImageFactory(owner=owner, team=team, prompt="a lighthouse at dawn")
    drawing = ImageFactory(owner=owner, svg=True, prompt="a heron in the reeds")
    page = html(admin_client.get(IMAGES))
    assert reverse("admin:gallery_image_change", args=[lighthouse.pk]) in page
    assert reverse("admin:gallery_image_change", args=[drawing.pk]) in page

    for query, found in (
        ({"format__exact": "svg"}, [drawing]),
        ({"q": "heron"}, [drawing]),
        ({"q": lighthouse.checksum}, [lighthouse]),
        ({"q": "owner"}, [drawing, lighthouse]),
    ):
        response = admin_client.get(IMAGES, query)
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == found, query


def test_the_image_change_page_shows_it_and_changes_nothing(admin_client, owner):
    image = ImageFactory(owner=owner, prompt="a lighthouse at dawn")
    url = reverse("admin:gallery_image_change", args=[image.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert image.checksum in html(response) and 'name="prompt"' not in html(response)
    assert admin_client.post(url, {"prompt": "changed"}).status_code == 403
    image.refresh_from_db()
    assert image.prompt == "a lighthouse at dawn"
    assert admin_client.get(reverse("admin:gallery_image_add")).status_code == 403


def test_the_collection_pages_answer(admin_client, owner):
    board = CollectionFactory(owner=owner, name="Harbours", images=[ImageFactory(owner=owner)])
    page = html(admin_client.get(COLLECTIONS, {"q": "Harb"}))
    assert reverse("admin:gallery_collection_change", args=[board.pk]) in page
    response = admin_client.get(reverse("admin:gallery_collection_change", args=[board.pk]))
    assert response.status_code == 200 and "Harbours" in html(response)
    assert admin_client.get(reverse("admin:gallery_collection_add")).status_code == 403
