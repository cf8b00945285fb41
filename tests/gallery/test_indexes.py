"""Every filter the gallery offers is served by an index: no query of a gallery page reads
the images table (or a table that drives it) from end to end.

The plans are the database's own (EXPLAIN). SQLite plans without statistics here, so a
scan it chooses is one no index could spare; PostgreSQL is told to avoid sequential scans
(``enable_seqscan = off``), so one that is left means no index serves the query. The prompt
text is the one filter no B-tree serves: on PostgreSQL trigram indexes do; on SQLite an FTS5
trigram index does for a rare word (tests/gallery/test_prompt_index.py), and for a common one
the page walks the (owner, date) index in order and stops at a page (docs/performance.md).
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gallery.models import Collection, Favourite
from gallery.search import Cursor
from tests.factories import ImageFactory, days_ago

pytestmark = pytest.mark.django_db

TABLES = ("gallery_image", "gallery_favourite", "gallery_collection_images")


def plans(sql_list: list[str]) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in sql_list:
            if connection.vendor == "postgresql":
                cursor.execute("EXPLAIN " + sql)
                found.append("\n".join(row[0] for row in cursor.fetchall()))
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                found.append("\n".join(row[-1] for row in cursor.fetchall()))
    return found


def full_scans(plan: str) -> list[str]:
    """The plan's lines that read a whole table of the gallery without an index."""
    if connection.vendor == "postgresql":
        return re.findall(rf"Seq Scan on ({'|'.join(TABLES)})\b.*", plan)
    # SQLite: "SCAN <table, or Django's alias of one>" with no index named after it (a scan
    # of a subquery's own rows, "SCAN b0", reads only what that subquery kept).
    pattern = rf"\bSCAN ({'|'.join(TABLES)}|[A-Z]\d+)$"
    return [line for line in plan.splitlines() if re.search(pattern, line.strip())]


@pytest.fixture
def gallery(owner, member, team):
    images = [ImageFactory(owner=owner, team=team if n % 2 else None) for n in range(4)]
    images += [ImageFactory(owner=member, team=team, endpoint="flux/schnell") for _ in range(2)]
    collection = Collection.objects.create(owner=owner, name="Boards")
    collection.images.add(*images[:3])
    Favourite.objects.create(user=owner, image=images[0])
    return {
        "team": team,
        "collection": collection,
        "cursor": Cursor(images[3].created_at, images[3].pk),
    }


FILTERS = {
    "first page": lambda g: {},
    "one model": lambda g: {"model": "flux/dev"},
    "a family": lambda g: {"model": "flux/"},
    "date range": lambda g: {
        "date_from": days_ago(30).date().isoformat(),
        "date_to": days_ago(-1).date().isoformat(),
    },
    "author": lambda g: {"author": "member"},
    "team": lambda g: {"team": g["team"].pk},
    "private": lambda g: {"team": "private"},
    "favourites": lambda g: {"favourites": "on"},
    "collection": lambda g: {"collection": g["collection"].pk},
    "next page (keyset)": lambda g: {"after": g["cursor"].encode()},
    "everything at once": lambda g: {
        "model": "flux/",
        "date_from": days_ago(30).date().isoformat(),
        "author": "owner",
        "team": g["team"].pk,
        "favourites": "on",
        "collection": g["collection"].pk,
        "after": g["cursor"].encode(),
    },
}


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_is_served_by_an_index(owner_client, gallery, name):
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get("/gallery/", FILTERS[name](gallery))
    assert response.status_code == 200
    gallery_queries = [
        q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in TABLES)
    ]
    assert gallery_queries
    for sql, plan in zip(gallery_queries, plans(gallery_queries), strict=True):
        assert not full_scans(plan), f"{name}: {sql}\n{plan}"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes: PostgreSQL only")
def test_the_prompt_text_is_served_by_a_trigram_index_on_postgresql(owner_client, gallery):
    with CaptureQueriesContext(connection) as queries:
        owner_client.get("/gallery/", {"q": "lighthouse"})
    searches = [q["sql"] for q in queries.captured_queries if "LIKE" in q["sql"]]
    assert searches
    for plan in plans(searches):
        assert "prompt" in plan and "Index" in plan, plan
