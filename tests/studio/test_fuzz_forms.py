"""A bounded fuzz of the studio's forms: whatever is typed or put in a URL, no 500.

Hypothesis draws values for every field of the create forms (their names come from the
catalog), the gallery's search parameters, the bulk bar and the team forms. Small and
without deadlines, so it runs in seconds; a 500 fails with the input that caused it.
Nothing resolves names or reaches the network: links only ever meet a refusing resolver.
"""

from __future__ import annotations

import socket

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from create.forms import form_field_names
from openjourney.catalog import ENDPOINTS
from tests.conftest import client_for
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

FUZZ = hypothesis_settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text that breaks things: markup, control characters, numbers at the edges, long runs.
nasty = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            "0",
            "1e309",
            "NaN",
            "9" * 40,
            "<script>",
            "\x00",
            "../../etc/passwd",
            "http://[::1",
            "http://127.0.0.1/",
            "%",
            "a" * 5000,
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
# Each of the ~35 create forms gets fewer: together they are the bulk of the run.
FUZZ_EACH_FORM = hypothesis_settings(FUZZ, max_examples=5)
CREATABLE = [e for e in ENDPOINTS if e.method == "POST" and (e.is_model or e.is_utility)]


@pytest.fixture(autouse=True)
def _offline(settings, monkeypatch):
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:9/engine"  # nothing answers
    settings.SUBMIT_RATE_LIMIT = 0
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)

    def no_dns(host, port, *args, **kwargs):
        raise socket.gaierror("no name resolution in the fuzz tests")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)


def assert_no_500(response, data) -> None:
    assert response.status_code < 500, data


@pytest.mark.parametrize("endpoint", CREATABLE, ids=[e.slug for e in CREATABLE])
def test_create_forms_never_fail(owner, endpoint):
    client = client_for(owner)
    names = sorted(form_field_names(endpoint))
    url = reverse("create:create-endpoint", args=[endpoint.slug])
    validate = reverse("create:validate", args=[endpoint.slug])

    @FUZZ_EACH_FORM
    @given(st.dictionaries(st.sampled_from(names), nasty, max_size=len(names)))
    def fuzz(data):
        assert_no_500(client.post(url, data), data)
        assert_no_500(client.post(validate, data), data)
        assert_no_500(client.get(url, data), data)

    fuzz()


def test_gallery_search_never_fails(owner):
    client = client_for(owner)
    ImageFactory(owner=owner)
    names = ["q", "model", "date_from", "date_to", "author", "team", "favourites"]
    names += ["collection", "after", "page"]

    @FUZZ
    @given(st.dictionaries(st.sampled_from(names), nasty, max_size=5), st.booleans())
    def fuzz(query, htmx):
        headers = {"HX-Request": "true", "HX-Target": "gallery-results"} if htmx else {}
        assert_no_500(client.get(reverse("gallery:list"), query, headers=headers), query)
        assert_no_500(client.get(reverse("jobs:list"), query), query)

    fuzz()


def test_bulk_and_compare_never_fail(owner):
    client = client_for(owner)
    image = ImageFactory(owner=owner)
    actions = st.sampled_from(["zip", "delete", "compare", "add", "move", "remove", "", "x"])
    ids = st.lists(st.one_of(nasty, st.just(str(image.pk))), max_size=3)

    @FUZZ
    @given(actions, ids, nasty, nasty)
    def fuzz(action, id_list, collection, source):
        data = {"action": action, "ids": id_list, "collection": collection}
        data["from_collection"] = source
        assert_no_500(client.post(reverse("gallery:bulk"), data), data)
        assert_no_500(client.get(reverse("gallery:zip"), {"ids": id_list}), id_list)
        assert_no_500(client.get(reverse("gallery:delete"), {"ids": id_list}), id_list)
        pair = {"a": collection, "b": source}
        assert_no_500(client.get(reverse("gallery:compare"), pair), pair)

    fuzz()


def test_team_forms_never_fail(owner, team):
    client = client_for(owner)
    forms = [
        (reverse("teams:create"), ["name"]),
        (reverse("teams:rename", args=[team.pk]), ["name"]),
        (reverse("teams:quota", args=[team.pk]), ["daily_job_quota"]),
        (reverse("teams:member-add", args=[team.pk]), ["username", "role"]),
        (reverse("teams:invite-create", args=[team.pk]), ["role"]),
        (reverse("teams:token", args=[team.pk]), ["token"]),
        (reverse("gallery:collections"), ["name"]),
    ]

    @FUZZ
    @given(st.sampled_from(forms), st.lists(nasty, min_size=2, max_size=2))
    def fuzz(form, values):
        url, names = form
        data = dict(zip(names, values, strict=False))
        assert_no_500(client.post(url, data), (url, data))

    fuzz()
