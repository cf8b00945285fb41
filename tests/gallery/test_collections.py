"""Collections: named boards, the owner's alone; an image may be in several."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from gallery.models import Collection, Image
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

LIST = reverse("gallery:collections")


def collection_url(collection, name: str = "gallery:collection") -> str:
    return reverse(name, args=[collection.pk])


def tile_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', html)]


def test_empty_list_explains_collections(owner_client):
    html = owner_client.get(LIST).content.decode()
    assert "No collections yet" in html


def test_create_a_collection(owner_client, owner):
    response = owner_client.post(LIST, {"name": "  Mood   board "})
    collection = Collection.objects.get(owner=owner)
    assert collection.name == "Mood board"
    assert response["Location"] == collection_url(collection)
    assert "Mood board" in owner_client.get(LIST).content.decode()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Pets", "You already have a collection called “Pets”"),
        ("PETS", "You already have a collection called “PETS”"),
        ("   ", "This field is required"),
        ("x" * 101, "at most 100 characters"),
    ],
)
def test_a_bad_name_is_refused_clearly(owner_client, owner, name, message):
    Collection.objects.create(owner=owner, name="Pets")
    response = owner_client.post(LIST, {"name": name})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Collection.objects.filter(owner=owner).count() == 1


def test_the_same_name_is_fine_for_another_user(owner_client, owner, outsider):
    Collection.objects.create(owner=outsider, name="Pets")
    owner_client.post(LIST, {"name": "Pets"})
    assert Collection.objects.filter(name="Pets").count() == 2


def test_rename(owner_client, owner):
    collection = Collection.objects.create(owner=owner, name="Old")
    Collection.objects.create(owner=owner, name="Taken")
    owner_client.post(collection_url(collection, "gallery:collection-rename"), {"name": "New"})
    collection.refresh_from_db()
    assert collection.name == "New"
    response = owner_client.post(
        collection_url(collection, "gallery:collection-rename"), {"name": "taken"}, follow=True
    )
    assert "You already have a collection called “taken”" in response.content.decode()
    collection.refresh_from_db()
    assert collection.name == "New"


def test_delete_asks_first_and_keeps_the_images(owner_client, owner):
    collection = Collection.objects.create(owner=owner, name="Doomed")
    image = ImageFactory(owner=owner)
    collection.images.add(image)
    url = collection_url(collection, "gallery:collection-delete")
    assert "Delete the collection “Doomed”?" in owner_client.get(url).content.decode()
    assert Collection.objects.filter(pk=collection.pk).exists()
    response = owner_client.post(url)
    assert response["Location"] == LIST
    assert not Collection.objects.filter(pk=collection.pk).exists()
    assert Image.objects.filter(pk=image.pk).exists()


def test_list_counts_images_still_visible_and_shows_a_cover(client, owner, member, team):
    collection = Collection.objects.create(owner=member, name="Team picks")
    shared = ImageFactory(owner=owner, team=team)
    own = ImageFactory(owner=member, created_at=shared.created_at.replace(year=2020))
    collection.images.add(shared, own)
    client.force_login(member)
    html = client.get(LIST).content.decode()
    assert "2 images" in html
    assert reverse("gallery:thumbnail", args=[shared.pk]) in html  # the newest is the cover
    team.memberships.filter(user=member).delete()
    html = client.get(LIST).content.decode()
    assert "1 image<" in html


def test_add_and_remove_from_the_detail_page(owner_client, owner):
    image = ImageFactory(owner=owner)
    first = Collection.objects.create(owner=owner, name="First")
    second = Collection.objects.create(owner=owner, name="Second")
    url = reverse("gallery:image-collections", args=[image.pk])
    owner_client.post(url, {"action": "add", "collection": first.pk})
    response = owner_client.post(
        url, {"action": "add", "collection": second.pk}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card image-collections"')
    assert "Added to “Second”" in html
    assert set(image.collections.all()) == {first, second}  # an image may be in several
    owner_client.post(url, {"action": "remove", "collection": first.pk})
    assert list(image.collections.all()) == [second]


def test_create_a_collection_from_the_detail_page(owner_client, owner):
    image = ImageFactory(owner=owner)
    Collection.objects.create(owner=owner, name="Taken")
    url = reverse("gallery:image-collections", args=[image.pk])
    owner_client.post(url, {"action": "create", "new-name": "Fresh"})
    assert list(Collection.objects.get(name="Fresh").images.all()) == [image]
    response = owner_client.post(
        url, {"action": "create", "new-name": "taken"}, headers={"HX-Request": "true"}
    )
    assert "You already have a collection called “taken”" in response.content.decode()
    assert Collection.objects.filter(owner=owner).count() == 2


def test_collection_page_shows_its_visible_images_only(client, owner, member, team):
    collection = Collection.objects.create(owner=member, name="Picks")
    shared = ImageFactory(owner=owner, team=team)
    own = ImageFactory(owner=member)
    outside = ImageFactory(owner=member)
    collection.images.add(shared, own)
    client.force_login(member)
    html = client.get(collection_url(collection)).content.decode()
    assert set(tile_ids(html)) == {shared.pk, own.pk}
    assert outside.pk not in tile_ids(html)
    team.memberships.filter(user=member).delete()  # removed from the team: gone at once
    html = client.get(collection_url(collection)).content.decode()
    assert tile_ids(html) == [own.pk]


def test_empty_collection_says_so(owner_client, owner):
    collection = Collection.objects.create(owner=owner, name="Nothing yet")
    html = owner_client.get(collection_url(collection)).content.decode()
    assert "This collection is empty" in html


def test_collection_page_scrolls_by_keyset_within_the_collection(owner_client, owner, monkeypatch):
    from gallery import search

    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    collection = Collection.objects.create(owner=owner, name="Five")
    images = [ImageFactory(owner=owner) for _ in range(5)]
    ImageFactory(owner=owner)  # not in the collection
    collection.images.add(*images)
    html = owner_client.get(collection_url(collection)).content.decode()
    link = re.search(r'id="gallery-more" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert link.startswith(collection_url(collection))
    seen = tile_ids(html)
    while link:
        page = owner_client.get(link, headers={"HX-Request": "true", "HX-Trigger": "gallery-more"})
        body = page.content.decode()
        seen += tile_ids(body)
        match = re.search(r'id="gallery-more" href="([^"]+)"', body)
        link = match.group(1).replace("&amp;", "&") if match else None
    assert sorted(seen) == sorted(image.pk for image in images)


@pytest.mark.parametrize(
    ("method", "name", "data"),
    [
        ("get", "gallery:collection", None),
        ("post", "gallery:collection-rename", {"name": "Mine now"}),
        ("get", "gallery:collection-delete", None),
        ("post", "gallery:collection-delete", None),
    ],
)
def test_another_users_collection_answers_404(owner_client, outsider, method, name, data):
    theirs = Collection.objects.create(owner=outsider, name="Theirs")
    response = getattr(owner_client, method)(collection_url(theirs, name), data)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_another_users_collection_cannot_be_filled_from_a_detail_page(
    owner_client, owner, outsider
):
    theirs = Collection.objects.create(owner=outsider, name="Theirs")
    image = ImageFactory(owner=owner)
    url = reverse("gallery:image-collections", args=[image.pk])
    assert owner_client.post(url, {"action": "add", "collection": theirs.pk}).status_code == 404
    assert not theirs.images.exists()


def test_an_image_the_user_cannot_see_cannot_be_collected(owner_client, owner, outsider):
    mine = Collection.objects.create(owner=owner, name="Mine")
    image = ImageFactory(owner=outsider)
    url = reverse("gallery:image-collections", args=[image.pk])
    assert owner_client.post(url, {"action": "add", "collection": mine.pk}).status_code == 404
    assert not mine.images.exists()
