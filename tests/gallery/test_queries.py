"""The gallery's lists cost the same queries whatever their length (the grid's own page is
tested in test_image_list.py): its fragments, collections, an image's children and
collections, and the images offered as a face or as an input on the create form."""

from __future__ import annotations

import itertools
import re

import pytest

from gallery.models import Collection, Image
from tests.factories import ImageFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db
_names = itertools.count()


def tiles(html: str) -> int:
    return len(re.findall(r'name="ids" value="\d+"', html))


def add_images(owner, count: int, **kwargs) -> list[Image]:
    return [ImageFactory(owner=owner, **kwargs) for _ in range(count)]


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "gallery-results"},
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_TRIGGER": "gallery-more"},
    ],
    ids=["results fragment", "next tiles"],
)
def test_the_grids_fragments(owner_client, owner, team, headers, django_assert_num_queries):
    add_images(owner, 2, team=team)
    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        "/gallery/?q=lighthouse",
        lambda: add_images(owner, 12, team=team),
        tiles,
        **headers,
    )


def test_a_collections_page(owner_client, owner, django_assert_num_queries):
    collection = Collection.objects.create(owner=owner, name="Boards")
    collection.images.add(*add_images(owner, 2))
    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        f"/gallery/collections/{collection.pk}/",
        lambda: collection.images.add(*add_images(owner, 12)),
        tiles,
    )


def test_the_collections_list(owner_client, owner, django_assert_num_queries):
    def add_collections(count: int) -> None:
        for _ in range(count):
            collection = Collection.objects.create(owner=owner, name=f"Board {next(_names)}")
            collection.images.add(*add_images(owner, 2))

    add_collections(1)
    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        "/gallery/collections/",
        lambda: add_collections(6),
        lambda html: html.count('class="card collection-card"'),
    )


def test_an_images_page_with_its_children_and_collections(
    owner_client, owner, django_assert_num_queries
):
    parent = ImageFactory(owner=owner)

    def add_children_and_collections(count: int) -> None:
        for child in add_images(owner, count):
            Image.objects.filter(pk=child.pk).update(parent=parent)
            collection = Collection.objects.create(owner=owner, name=f"Board {next(_names)}")
            if child.pk % 2:
                collection.images.add(parent)

    add_children_and_collections(1)
    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        f"/gallery/{parent.pk}/",
        lambda: add_children_and_collections(8),
        lambda html: len(re.findall(r'href="/gallery/\d+/"', html)) + html.count("Board "),
    )


def test_the_faces_to_choose_from(owner_client, owner, team, django_assert_num_queries):
    target = ImageFactory(owner=owner)
    add_images(owner, 1)

    def grow() -> None:
        add_images(owner, 6)
        add_images(owner, 6, team=team)

    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        f"/images/{target.pk}/send/utils/faceswap",
        grow,
        lambda html: html.count('name="face"'),
    )


def test_the_gallery_images_a_utilitys_form_offers(owner_client, owner, django_assert_num_queries):
    add_images(owner, 1)
    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        "/create/utils/upscale",
        lambda: add_images(owner, 10),
        lambda html: len(re.findall(r'<option value="\d+"', html)),
    )


def test_the_images_a_bulk_delete_lists_to_confirm(owner_client, owner, team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def confirm(images: list[Image]) -> int:
        ids = [str(image.pk) for image in images]
        with CaptureQueriesContext(connection) as queries:
            response = owner_client.post("/gallery/bulk", {"action": "delete", "ids": ids})
        assert response.status_code == 200
        assert response.content.decode().count('class="tile"') == len(images)
        return len(queries)

    few = add_images(owner, 2, team=team)
    confirm(few)
    assert confirm(few) == confirm(few + add_images(owner, 12, team=team))
