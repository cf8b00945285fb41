"""Search and filters: each one, together, in the URL, and bad values answered clearly."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from gallery import search
from gallery.models import Collection, Favourite
from teams.models import Membership, Role, Team
from tests.factories import ImageFactory, UserFactory, days_ago

pytestmark = pytest.mark.django_db

LIST = reverse("gallery:list")


def ids(response) -> set[int]:
    assert response.status_code == 200, response.status_code
    return {int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', response.content.decode())}


@pytest.fixture
def library(owner, member, team):
    """A small varied gallery: models, prompts, dates, authors, teams."""
    other_team = Team.objects.create(name="Night shift", created_by=owner)
    Membership.objects.create(team=other_team, user=owner, role=Role.OWNER)
    return {
        "cat": ImageFactory(
            owner=owner,
            prompt="A ginger CAT on a sofa",
            endpoint="flux/dev",
            created_at=days_ago(1),
        ),
        "dog": ImageFactory(
            owner=owner,
            prompt="a dog in the rain",
            negative_prompt="blurry cat",
            endpoint="sdxl/generative",
            created_at=days_ago(10),
        ),
        "shared": ImageFactory(
            owner=member,
            team=team,
            prompt="team poster, bold cat",
            endpoint="flux/schnell",
            created_at=days_ago(20),
        ),
        "night": ImageFactory(
            owner=owner,
            team=other_team,
            prompt="night city",
            endpoint="re-craft/generative",
            created_at=days_ago(40),
        ),
        "upload": ImageFactory(owner=owner, prompt="", endpoint="", created_at=days_ago(60)),
        "other_team": other_team,
    }


def pks(library, *names) -> set[int]:
    return {library[name].pk for name in names}


def test_no_filter_shows_everything_visible(owner_client, library):
    assert ids(owner_client.get(LIST)) == pks(library, "cat", "dog", "shared", "night", "upload")


def test_prompt_text_any_case_in_prompt_or_negative_prompt(owner_client, library):
    assert ids(owner_client.get(LIST, {"q": "cat"})) == pks(library, "cat", "dog", "shared")
    assert ids(owner_client.get(LIST, {"q": "GINGER sofa"})) == pks(library, "cat")
    assert ids(owner_client.get(LIST, {"q": "ginger rain"})) == set()


def test_model_filter_by_endpoint(owner_client, library):
    assert ids(owner_client.get(LIST, {"model": "flux/dev"})) == pks(library, "cat")
    assert ids(owner_client.get(LIST, {"model": "re-craft/generative"})) == pks(library, "night")


def test_family_filter_takes_every_endpoint_of_the_family(owner_client, library):
    assert ids(owner_client.get(LIST, {"model": "flux/"})) == pks(library, "cat", "shared")
    assert ids(owner_client.get(LIST, {"model": "sdxl/"})) == pks(library, "dog")


def test_uploads_filter(owner_client, library):
    assert ids(owner_client.get(LIST, {"model": "upload"})) == pks(library, "upload")


def test_date_range_is_inclusive_of_both_days(owner_client, library):
    day = lambda n: timezone.localdate(days_ago(n)).isoformat()  # noqa: E731
    assert ids(owner_client.get(LIST, {"date_from": day(20)})) == pks(
        library, "cat", "dog", "shared"
    )
    assert ids(owner_client.get(LIST, {"date_to": day(40)})) == pks(library, "night", "upload")
    assert ids(owner_client.get(LIST, {"date_from": day(20), "date_to": day(10)})) == pks(
        library, "dog", "shared"
    )
    assert ids(owner_client.get(LIST, {"date_from": day(10), "date_to": day(10)})) == pks(
        library, "dog"
    )


def test_author_filter_among_visible_authors(owner_client, library, member, owner):
    assert ids(owner_client.get(LIST, {"author": member.username})) == pks(library, "shared")
    assert ids(owner_client.get(LIST, {"author": owner.username})) == pks(
        library, "cat", "dog", "night", "upload"
    )


def test_team_filter_and_private(owner_client, library, team):
    assert ids(owner_client.get(LIST, {"team": team.pk})) == pks(library, "shared")
    other = library["other_team"]
    assert ids(owner_client.get(LIST, {"team": other.pk})) == pks(library, "night")
    assert ids(owner_client.get(LIST, {"team": "private"})) == pks(library, "cat", "dog", "upload")


def test_favourites_only(owner_client, owner, library):
    Favourite.objects.create(user=owner, image=library["shared"])
    Favourite.objects.create(user=owner, image=library["dog"])
    assert ids(owner_client.get(LIST, {"favourites": "on"})) == pks(library, "shared", "dog")


def test_collection_filter(owner_client, owner, library):
    collection = Collection.objects.create(owner=owner, name="Pets")
    collection.images.add(library["cat"], library["dog"])
    assert ids(owner_client.get(LIST, {"collection": collection.pk})) == pks(library, "cat", "dog")


def test_filters_combine(owner_client, owner, library):
    Favourite.objects.create(user=owner, image=library["cat"])
    Favourite.objects.create(user=owner, image=library["shared"])
    both = {"q": "cat", "model": "flux/", "favourites": "on"}
    assert ids(owner_client.get(LIST, both)) == pks(library, "cat", "shared")
    assert ids(owner_client.get(LIST, {**both, "team": "private"})) == pks(library, "cat")
    day = timezone.localdate(days_ago(5)).isoformat()
    assert ids(owner_client.get(LIST, {**both, "date_to": day})) == pks(library, "shared")


def test_no_results_says_so(owner_client, library):
    html = owner_client.get(LIST, {"q": "zebra"}).content.decode()
    assert "No images match this search" in html


def test_filters_live_in_the_url_and_in_next_pages(owner_client, owner, monkeypatch):
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    for n in range(5):
        ImageFactory(owner=owner, prompt=f"cat number {n}", created_at=days_ago(n))
    ImageFactory(owner=owner, prompt="dog", created_at=days_ago(0.5))
    html = owner_client.get(LIST, {"q": "cat", "model": "flux/dev"}).content.decode()
    assert 'value="cat"' in html  # the form shows the search it ran
    link = re.search(r'id="gallery-more" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "q=cat" in link and "model=flux%2Fdev" in link
    assert ids(owner_client.get(link)).isdisjoint(ids(owner_client.get(LIST, {"q": "dog"})))


def test_htmx_filter_form_gets_the_results_fragment(owner_client, library):
    html = owner_client.get(LIST).content.decode()
    form = re.search(r'<form method="get"[^>]*class="gallery-filters"[^>]*>', html, re.S).group(0)
    assert 'hx-target="#gallery-results"' in form and 'hx-push-url="true"' in form
    assert f'hx-get="{LIST}"' in form
    response = owner_client.get(
        LIST, {"q": "night"}, headers={"HX-Request": "true", "HX-Target": "gallery-results"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="gallery-results"')
    assert ids(response) == pks(library, "night")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"model": "no/such-model"}, "Select a valid choice"),
        ({"date_from": "yesterday"}, "Enter a valid date"),
        ({"date_to": "2024-02-31"}, "Enter a valid date"),
        ({"date_from": "2024-05-02", "date_to": "2024-05-01"}, "The end date is before"),
        ({"team": "everyone"}, "Choose one of your teams"),
        ({"collection": "favourites"}, "Choose one of your collections"),
        ({"author": "nobody-at-all"}, "No author called “nobody-at-all”"),
        ({"q": "x" * 300}, "at most 200 characters"),
    ],
)
def test_invalid_filters_answer_a_clear_message(owner_client, library, query, message):
    response = owner_client.get(LIST, query)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert ids(response) == set()


def test_an_author_outside_the_users_teams_is_not_found(owner_client, library, outsider):
    ImageFactory(owner=outsider)
    html = owner_client.get(LIST, {"author": outsider.username}).content.decode()
    assert f"No author called “{outsider.username}”" in html


def test_another_users_team_or_collection_answers_404(owner_client, outsider, library):
    their_team = Team.objects.create(name="Theirs", created_by=outsider)
    Membership.objects.create(team=their_team, user=outsider, role=Role.OWNER)
    their_collection = Collection.objects.create(owner=outsider, name="Theirs")
    assert owner_client.get(LIST, {"team": their_team.pk}).status_code == 404
    assert owner_client.get(LIST, {"collection": their_collection.pk}).status_code == 404
    fragment = {"HX-Request": "true", "HX-Target": "gallery-results"}
    assert owner_client.get(LIST, {"team": their_team.pk}, headers=fragment).status_code == 404
    assert owner_client.get(LIST, {"collection": 999999}).status_code == 404


def test_a_viewer_filters_the_team_gallery(client, viewer, team, library):
    client.force_login(viewer)
    assert ids(client.get(LIST, {"team": team.pk, "q": "poster"})) == pks(library, "shared")
    assert ids(client.get(LIST, {"team": "private"})) == set()


def test_date_filter_uses_the_sites_day_boundaries(owner_client, owner, settings):
    settings.TIME_ZONE = "UTC"
    late = timezone.make_aware(datetime.datetime(2024, 3, 1, 23, 59, 59))
    early = timezone.make_aware(datetime.datetime(2024, 3, 2, 0, 0, 0))
    a = ImageFactory(owner=owner, created_at=late)
    b = ImageFactory(owner=owner, created_at=early)
    assert ids(owner_client.get(LIST, {"date_to": "2024-03-01"})) == {a.pk}
    assert ids(owner_client.get(LIST, {"date_from": "2024-03-02"})) == {b.pk}


def test_a_user_with_no_team_sees_only_their_own(client, library):
    loner = UserFactory(username="loner")
    client.force_login(loner)
    assert ids(client.get(LIST)) == set()
