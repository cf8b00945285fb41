"""A list view's queries, counted at two lengths: the long one must cost what the short costs."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext


def count_queries(client, url: str, **extra) -> tuple[int, HttpResponse]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200, response.status_code
    return len(queries), response


def assert_constant_queries(
    django_assert_num_queries,
    client,
    url: str,
    grow: Callable[[], object],
    shown: Callable[[str], int],
    **extra,
) -> int:
    """``url`` runs as many queries after ``grow()`` (more rows in the list) as before.

    ``shown`` counts the list's entries in a response, to prove the list did grow. The
    short list is read twice first, so that caches filled on a first visit don't count.
    """
    client.get(url, **extra)
    short_count, short = count_queries(client, url, **extra)
    short_length = shown(short.content.decode())
    grow()
    with django_assert_num_queries(short_count):
        long = client.get(url, **extra)
    assert long.status_code == 200
    assert shown(long.content.decode()) > short_length
    return short_count
