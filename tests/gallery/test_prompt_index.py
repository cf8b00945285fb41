"""The prompt search's trigram index on SQLite (gallery/fts.py): used for rare words only,
kept by triggers, rebuilt after a migration dropped them, never changing what is found."""

from __future__ import annotations

import re

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gallery import fts
from gallery.models import Image
from gallery.search import ImageSearch, search_images
from tests.factories import ImageFactory
from tests.gallery.test_indexes import plans

pytestmark = pytest.mark.django_db
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite only: PostgreSQL has trigram indexes"
)
LIST = reverse("gallery:list")


def shown(response) -> set[int]:
    assert response.status_code == 200, response.status_code
    return {int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', response.content.decode())}


def index_lookups(queries) -> list[str]:
    return [q["sql"] for q in queries if f'"{fts.TABLE}" MATCH' in q["sql"]]


@sqlite_only
def test_a_rare_word_is_found_through_the_index(owner, member, team, owner_client):
    aurora = ImageFactory(owner=owner, prompt="An AURORA over the fjord")
    shared = ImageFactory(owner=member, team=team, prompt="aurora borealis, team poster")
    ImageFactory(owner=owner, prompt="a lighthouse at dawn")
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get(LIST, {"q": "aurora"})
    assert shown(response) == {aurora.pk, shared.pk}
    # One query counts the word's matches; the page's own query reads the index, and reads
    # the few images it names by id, not the owner's or a team's images in date order.
    _count, page = index_lookups(queries)
    [plan] = plans([page])
    assert "SEARCH gallery_image USING INTEGER PRIMARY KEY" in plan, plan
    assert "owner_id=?" not in plan and "team_id=?" not in plan, plan


@sqlite_only
def test_a_common_word_is_left_to_the_date_ordered_scan(owner, owner_client, monkeypatch):
    monkeypatch.setattr(fts, "RARE_MATCHES", 1)
    both = {ImageFactory(owner=owner, prompt=f"a lighthouse, take {n}").pk for n in range(2)}
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get(LIST, {"q": "lighthouse"})
    assert shown(response) == both
    assert len(index_lookups(queries)) == 1  # the count alone


@sqlite_only
def test_the_index_follows_inserts_updates_and_deletes(owner):
    def found(word: str) -> set[int]:
        in_index = set(Image.objects.filter(pk__in=fts.rare_word_ids(connection, word)))
        in_table = set(search_images(owner, ImageSearch(text=word)))
        assert in_index == in_table  # nothing stale left in the index, nothing missing
        return {image.pk for image in in_table}

    image = ImageFactory(owner=owner, prompt="a heron in the reeds")
    assert found("heron") == {image.pk}
    Image.objects.filter(pk=image.pk).update(negative_prompt="no egrets")
    assert found("egret") == {image.pk}
    image.refresh_from_db()
    image.prompt = "a crane in the reeds"
    image.save()
    assert found("heron") == set()
    assert found("crane") == {image.pk}
    image.delete()
    assert found("crane") == set()


@sqlite_only
def test_triggers_dropped_by_a_table_rebuild_come_back_after_migrate(owner):
    # Django rebuilds a SQLite table when a migration alters it: its triggers go with it.
    with connection.cursor() as cursor:
        for name in fts.TRIGGERS:
            cursor.execute(f'DROP TRIGGER "{name}"')
    unindexed = ImageFactory(owner=owner, prompt="a kingfisher on a branch")

    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)

    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert set(fts.TRIGGERS) <= {row[0] for row in cursor.fetchall()}
    # Rebuilt: the image written while the triggers were missing is found.
    search = ImageSearch(text="kingfisher")
    assert list(search_images(owner, search).values_list("pk", flat=True)) == [unindexed.pk]


@pytest.mark.parametrize(
    "text",
    ["aurora", "AUR", "au", "x", 'say "cheese"', "a*b", "fjord OR sea", "NEAR(", "Æsir", "  "],
)
def test_the_index_never_changes_what_is_found(owner, text, monkeypatch):
    monkeypatch.setattr(fts, "RARE_MATCHES", 1)
    prompts = [
        "An AURORA over the fjord",
        "aurora, again",
        'a sign that says "cheese"',
        "a*b test pattern",
        "fjord OR sea",
        "NEAR(the sea)",
        "the Æsir feast",
        "au pair",
    ]
    for prompt in prompts:
        ImageFactory(owner=owner, prompt=prompt)
    expected = Image.objects.filter(owner=owner)
    for word in text.split():
        expected = expected.filter(Q(prompt__icontains=word) | Q(negative_prompt__icontains=word))
    found = search_images(owner, ImageSearch(text=text))
    assert set(found.values_list("pk", flat=True)) == set(expected.values_list("pk", flat=True))
