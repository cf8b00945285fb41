"""Bulk actions on ticked tiles: collect, move, remove, compare, delete (confirmed)."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from gallery.models import Collection, Image
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

BULK = reverse("gallery:bulk")
DELETE = reverse("gallery:delete")
LIST = reverse("gallery:list")


def post_bulk(client, action: str, images, **extra):
    data = {"action": action, "ids": [str(image.pk) for image in images], **extra}
    return client.post(BULK, data)


def test_grid_is_a_bulk_form_with_a_checkbox_per_tile(owner_client, owner):
    image = ImageFactory(owner=owner)
    html = owner_client.get(LIST).content.decode()
    assert f'<form method="post" action="{BULK}"' in html
    assert f'type="checkbox" name="ids" value="{image.pk}"' in html
    for action in ("zip", "add", "compare", "delete"):
        assert f'name="action" value="{action}"' in html


def test_add_to_a_collection(owner_client, owner):
    images = [ImageFactory(owner=owner) for _ in range(3)]
    collection = Collection.objects.create(owner=owner, name="Picks")
    response = post_bulk(owner_client, "add", images[:2], collection=collection.pk, next=LIST)
    assert response.status_code == 302 and response["Location"] == LIST
    assert set(collection.images.all()) == set(images[:2])
    # Adding again is harmless.
    post_bulk(owner_client, "add", images, collection=collection.pk)
    assert collection.images.count() == 3


def test_move_between_collections(owner_client, owner):
    images = [ImageFactory(owner=owner) for _ in range(3)]
    source = Collection.objects.create(owner=owner, name="Inbox")
    target = Collection.objects.create(owner=owner, name="Keep")
    source.images.add(*images)
    post_bulk(owner_client, "move", images[:2], collection=target.pk, from_collection=source.pk)
    assert set(target.images.all()) == set(images[:2])
    assert list(source.images.all()) == [images[2]]


def test_remove_from_a_collection(owner_client, owner):
    images = [ImageFactory(owner=owner) for _ in range(2)]
    source = Collection.objects.create(owner=owner, name="Inbox")
    source.images.add(*images)
    post_bulk(owner_client, "remove", images[:1], from_collection=source.pk)
    assert list(source.images.all()) == [images[1]]
    assert Image.objects.count() == 2


def test_collection_page_offers_move_and_remove(owner_client, owner):
    collection = Collection.objects.create(owner=owner, name="Inbox")
    collection.images.add(ImageFactory(owner=owner))
    html = owner_client.get(reverse("gallery:collection", args=[collection.pk])).content.decode()
    assert f'name="from_collection" value="{collection.pk}"' in html
    assert 'value="move"' in html and 'value="remove"' in html


def test_compare_two_goes_to_the_compare_page(owner_client, owner):
    a, b = ImageFactory(owner=owner), ImageFactory(owner=owner)
    response = post_bulk(owner_client, "compare", [a, b])
    assert response["Location"] == f"{reverse('gallery:compare')}?a={a.pk}&b={b.pk}"
    response = post_bulk(owner_client, "compare", [a], next=LIST)
    assert response["Location"] == LIST


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "zip"}, "Select at least one image first"),
        ({"action": "zip", "ids": ["1", "two"]}, "The selection is damaged"),
        ({"action": "explode", "ids": ["1"]}, "Select a valid choice"),
        ({"action": "add", "ids": ["1"]}, "Choose the collection"),
        ({"action": "add", "ids": ["1"], "collection": "mine"}, "Choose one of your collections"),
        ({"action": "remove", "ids": ["1"]}, "This action works from a collection"),
        ({"action": "compare", "ids": ["1", "2", "3"]}, "Select exactly two images"),
    ],
)
def test_bad_bulk_requests_come_back_with_a_message(owner_client, owner, data, message):
    ImageFactory(owner=owner)
    response = owner_client.post(BULK, {**data, "next": LIST}, follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert message in response.content.decode()


def test_too_many_ids_are_refused(owner_client, owner):
    response = owner_client.post(
        BULK, {"action": "zip", "ids": [str(n) for n in range(1, 502)]}, follow=True
    )
    assert "Select at most 500 images" in response.content.decode()


def test_delete_asks_first_listing_the_images(owner_client, owner):
    images = [ImageFactory(owner=owner, prompt=f"picture {n}") for n in range(2)]
    response = post_bulk(owner_client, "delete", images, next=LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Delete 2 images?" in html
    for image in images:
        assert f'name="ids" value="{image.pk}"' in html
        assert reverse("gallery:thumbnail", args=[image.pk]) in html
    assert Image.objects.count() == 2  # nothing deleted yet


def test_confirmed_delete_removes_rows_and_files(
    owner_client, owner, django_capture_on_commit_callbacks
):
    images = [ImageFactory(owner=owner) for _ in range(2)]
    keep = ImageFactory(owner=owner)
    names = [name for image in images for name in (image.file.name, image.thumbnail.name)]
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            DELETE, {"ids": [image.pk for image in images], "next": LIST}, follow=True
        )
    assert "Deleted 2 images" in response.content.decode()
    assert list(Image.objects.all()) == [keep]
    assert not any(default_storage.exists(name) for name in names)
    assert default_storage.exists(keep.file.name)


def test_delete_from_the_detail_page_goes_back_to_the_gallery(owner_client, owner):
    image = ImageFactory(owner=owner)
    detail = reverse("gallery:detail", args=[image.pk])
    page = owner_client.get(DELETE, {"ids": image.pk, "next": detail})
    assert "Delete 1 image?" in page.content.decode()
    response = owner_client.post(DELETE, {"ids": image.pk, "next": detail})
    assert response["Location"] == LIST


def test_viewer_cannot_delete_team_images_but_an_editor_can(client, owner, viewer, member, team):
    image = ImageFactory(owner=owner, team=team)
    client.force_login(viewer)
    assert post_bulk(client, "delete", [image]).status_code == 404
    assert client.get(DELETE, {"ids": image.pk}).status_code == 404
    assert client.post(DELETE, {"ids": image.pk}).status_code == 404
    assert Image.objects.filter(pk=image.pk).exists()

    client.force_login(member)
    assert post_bulk(client, "delete", [image]).status_code == 200
    assert client.post(DELETE, {"ids": image.pk}).status_code == 302
    assert not Image.objects.filter(pk=image.pk).exists()


def test_a_viewer_may_still_collect_team_images(client, owner, viewer, team):
    image = ImageFactory(owner=owner, team=team)
    collection = Collection.objects.create(owner=viewer, name="Mine")
    client.force_login(viewer)
    post_bulk(client, "add", [image], collection=collection.pk)
    assert list(collection.images.all()) == [image]


@pytest.mark.parametrize("action", ["zip", "add", "move", "remove", "compare", "delete"])
def test_one_foreign_image_makes_every_action_answer_404(owner_client, owner, outsider, action):
    mine = ImageFactory(owner=owner)
    theirs = ImageFactory(owner=outsider)
    collection = Collection.objects.create(owner=owner, name="Mine")
    target = Collection.objects.create(owner=owner, name="Target")
    collection.images.add(mine)
    response = post_bulk(
        owner_client,
        action,
        [mine, theirs],
        collection=target.pk,
        from_collection=collection.pk,
    )
    assert response.status_code == 404
    assert Image.objects.count() == 2
    assert list(collection.images.all()) == [mine]
    assert not target.images.exists()


@pytest.mark.parametrize("action", ["add", "move"])
def test_another_users_collection_answers_404_in_bulk(owner_client, owner, outsider, action):
    image = ImageFactory(owner=owner)
    mine = Collection.objects.create(owner=owner, name="Mine")
    mine.images.add(image)
    theirs = Collection.objects.create(owner=outsider, name="Theirs")
    response = post_bulk(
        owner_client, action, [image], collection=theirs.pk, from_collection=mine.pk
    )
    assert response.status_code == 404
    assert not theirs.images.exists()
    response = post_bulk(owner_client, "remove", [image], from_collection=theirs.pk)
    assert response.status_code == 404


def test_deleting_an_outsiders_image_directly_answers_404(owner_client, outsider):
    image = ImageFactory(owner=outsider)
    assert owner_client.get(DELETE, {"ids": image.pk}).status_code == 404
    assert owner_client.post(DELETE, {"ids": image.pk}).status_code == 404
    assert Image.objects.filter(pk=image.pk).exists()


def test_delete_without_ids_says_so(owner_client):
    response = owner_client.get(DELETE, {"ids": "abc"}, follow=True)
    assert "Choose between 1 and 500 images to delete" in response.content.decode()
