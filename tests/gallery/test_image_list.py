"""The gallery grid: what it shows, keyset pages, infinite scroll, constant queries."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from gallery import search
from gallery.models import Image
from tests.factories import ImageFactory, days_ago

pytestmark = pytest.mark.django_db

LIST = reverse("gallery:list")


def tile_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', html)]


def next_link(html: str) -> str | None:
    match = re.search(r'id="gallery-more" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_empty_gallery_invites_to_create(owner_client):
    html = owner_client.get(LIST).content.decode()
    assert "Your gallery is empty" in html
    assert reverse("create:index") in html


def test_lists_own_images_newest_first_and_not_an_outsiders(owner_client, owner, outsider):
    old = ImageFactory(owner=owner, created_at=days_ago(3))
    new = ImageFactory(owner=owner, created_at=days_ago(1))
    ImageFactory(owner=outsider, prompt="the outsider's secret")
    html = owner_client.get(LIST).content.decode()
    assert tile_ids(html) == [new.pk, old.pk]
    assert "secret" not in html


def test_tiles_are_lazy_webp_thumbnails_sized_on_their_placeholder(owner_client, owner):
    image = ImageFactory(owner=owner)
    html = owner_client.get(LIST).content.decode()
    assert f'src="{reverse("gallery:thumbnail", args=[image.pk])}"' in html
    assert 'loading="lazy"' in html
    assert f'width="{image.width}" height="{image.height}"' in html
    assert f"--placeholder: {image.placeholder}" in html
    thumb = owner_client.get(reverse("gallery:thumbnail", args=[image.pk]))
    assert thumb["Content-Type"] == "image/webp"


def test_team_images_are_shown_to_members_with_their_author(client, owner, member, team):
    shared = ImageFactory(owner=owner, team=team, prompt="shared lighthouse")
    private = ImageFactory(owner=owner, prompt="owner's private sketch")
    client.force_login(member)
    html = client.get(LIST).content.decode()
    assert tile_ids(html) == [shared.pk]
    assert "private sketch" not in html
    assert f"?author={owner.username}" in html and team.name in html
    assert private.pk not in tile_ids(html)


def test_a_member_who_leaves_sees_the_team_images_no_more(client, owner, member, team):
    ImageFactory(owner=owner, team=team)
    client.force_login(member)
    assert len(tile_ids(client.get(LIST).content.decode())) == 1
    team.memberships.filter(user=member).delete()
    assert tile_ids(client.get(LIST).content.decode()) == []


def test_keyset_pages_have_no_gaps_or_duplicates_even_with_equal_times(
    owner_client, owner, monkeypatch
):
    monkeypatch.setattr(search, "PAGE_SIZE", 4)
    same_moment = days_ago(2)
    images = [ImageFactory(owner=owner, created_at=same_moment) for _ in range(7)]
    images += [ImageFactory(owner=owner, created_at=days_ago(1 + n / 10)) for n in range(6)]
    expected = list(Image.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    assert len(expected) == 13

    seen, url, pages = [], LIST, 0
    while url:
        html = owner_client.get(url).content.decode()
        page = tile_ids(html)
        assert 0 < len(page) <= 4
        seen += page
        url = next_link(html)
        pages += 1
    assert seen == expected
    assert pages == 4


def test_pages_merge_own_and_several_teams_images_in_order(client, owner, member, monkeypatch):
    """Each part of the visible set (own, each team's) is read on its own index: the merged
    pages must still be exactly the visible images, newest first, ties broken by id."""
    from teams.models import Membership, Role, Team

    monkeypatch.setattr(search, "PAGE_SIZE", 3)
    teams = [Team.objects.create(name=f"T{n}", created_by=owner) for n in range(3)]
    for team in teams:
        Membership.objects.create(team=team, user=owner, role=Role.OWNER)
        Membership.objects.create(team=team, user=member, role=Role.VIEWER)
    tie = days_ago(5)
    for n in range(4):
        ImageFactory(owner=member, created_at=tie if n % 2 else days_ago(n))
        ImageFactory(
            owner=member, team=teams[n % 3], created_at=tie if n % 2 else days_ago(n + 0.5)
        )
        ImageFactory(owner=owner, team=teams[(n + 1) % 3], created_at=tie if n % 3 else days_ago(n))
        ImageFactory(owner=owner, created_at=days_ago(n + 0.25))  # private: never the member's
    expected = list(
        Image.objects.visible_to(member).order_by("-created_at", "-id").values_list("pk", flat=True)
    )
    assert len(expected) == 12

    client.force_login(member)
    seen, url = [], LIST
    while url:
        html = client.get(url).content.decode()
        seen += tile_ids(html)
        url = next_link(html)
    assert seen == expected


def test_infinite_scroll_sentinel_loads_the_next_tiles_in_its_place(
    owner_client, owner, monkeypatch
):
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    for n in range(5):
        ImageFactory(owner=owner, created_at=days_ago(n))
    html = owner_client.get(LIST).content.decode()
    sentinel = re.search(r'<a class="grid-more"[^>]*>', html, re.S).group(0)
    assert 'hx-trigger="revealed"' in sentinel and 'hx-swap="outerHTML"' in sentinel
    href = re.search(r'href="([^"]+)"', sentinel).group(1)
    assert re.search(r'hx-get="([^"]+)"', sentinel).group(1) == href  # a real link too
    assert "after=" in href

    fragment = owner_client.get(
        href.replace("&amp;", "&"), headers={"HX-Request": "true", "HX-Trigger": "gallery-more"}
    )
    body = fragment.content.decode()
    assert "<html" not in body and "gallery-filters" not in body
    assert len(tile_ids(body)) == 2
    assert 'id="gallery-more"' in body  # the next sentinel
    assert "HX-Request" in fragment["Vary"]


def test_without_javascript_the_older_link_is_a_full_page(owner_client, owner, monkeypatch):
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    for n in range(3):
        ImageFactory(owner=owner, created_at=days_ago(n))
    second = owner_client.get(next_link(owner_client.get(LIST).content.decode()))
    html = second.content.decode()
    assert "<html" in html and len(tile_ids(html)) == 1
    assert "Back to the newest" in html
    assert next_link(html) is None


def test_a_damaged_page_link_says_so(owner_client, owner):
    ImageFactory(owner=owner)
    for value in ("nonsense", "12-x", "99999999999999999999999999-1", "-1"):
        response = owner_client.get(LIST, {"after": value})
        assert response.status_code == 200
        assert "This page link is damaged" in response.content.decode()


@pytest.mark.parametrize("count", [10, 48])
def test_a_page_costs_the_same_queries_whatever_its_length(
    owner_client, owner, member, team, count, django_assert_num_queries
):
    for n in range(count):
        ImageFactory(owner=member if n % 3 else owner, team=team if n % 2 else None)
    Image.objects.filter(owner=member, team__isnull=True).update(team=team)
    # session, user, the user's teams, the user's collections, the page (with author,
    # team and star joined in).
    with django_assert_num_queries(5):
        response = owner_client.get(LIST)
    assert len(tile_ids(response.content.decode())) == count


@pytest.mark.parametrize("count", [10, 48])
def test_a_filtered_page_costs_the_same_queries_too(
    owner_client, owner, team, count, django_assert_num_queries
):
    from gallery.models import Collection, Favourite

    collection = Collection.objects.create(owner=owner, name="Boards")
    for _ in range(count):
        image = ImageFactory(owner=owner, team=team)
        Favourite.objects.create(user=owner, image=image)
        collection.images.add(image)
    query = {
        "q": "lighthouse",
        "model": "flux/",
        "date_from": days_ago(1).date().isoformat(),
        "author": owner.username,
        "team": team.pk,
        "favourites": "on",
        "collection": collection.pk,
    }
    # As above, and the author, the team and the collection looked up; on SQLite also the
    # prompt index's count of the word's matches (gallery/fts.py), one per word.
    from django.db import connection

    with django_assert_num_queries(9 if connection.vendor == "sqlite" else 8):
        response = owner_client.get(LIST, query)
    assert len(tile_ids(response.content.decode())) == count


def test_history_restore_gets_the_whole_page(owner_client, owner):
    ImageFactory(owner=owner)
    response = owner_client.get(
        LIST,
        headers={
            "HX-Request": "true",
            "HX-History-Restore-Request": "true",
            "HX-Target": "gallery-results",
        },
    )
    assert "<html" in response.content.decode()
