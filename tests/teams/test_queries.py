"""Every list of the teams' pages costs the same queries whatever its length."""

from __future__ import annotations

import itertools
import re

import pytest

from gallery.sharing import create_share_link
from jobs.models import Job
from teams.activity import record
from teams.membership import create_invite
from teams.models import Membership, Role, Team
from tests.factories import ImageFactory, UserFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db
_names = itertools.count()


def found(pattern: str):
    return lambda html: len(re.findall(pattern, html))


def add_teams(user, count: int) -> None:
    for _ in range(count):
        team = Team.objects.create(name=f"Team {next(_names)}", created_by=user)
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
        Membership.objects.create(team=team, user=UserFactory(), role=Role.VIEWER)


def add_members(team, count: int) -> None:
    for number in range(count):
        role = (Role.EDITOR, Role.VIEWER, Role.OWNER)[number % 3]
        Membership.objects.create(team=team, user=UserFactory(), role=role)


def add_invites(team, by, count: int) -> None:
    for number in range(count):
        create_invite(team, by, (Role.EDITOR, Role.VIEWER)[number % 2])


def add_activity(team, count: int) -> None:
    for number in range(count):
        actor = UserFactory() if number % 2 else None
        record(team, actor, "generated", f"generated {number} images")


def add_usage(team, count: int) -> None:
    """``count`` members, each with jobs of their own model and outcome."""
    endpoints = itertools.cycle(["flux/dev", "flux/schnell", "sdxl/generative", "sd/3.5/large"])
    for _ in range(count):
        user = UserFactory()
        Membership.objects.create(team=team, user=user, role=Role.EDITOR)
        for status in ("succeeded", "failed", "queued"):
            Job.objects.create(
                owner=user, team=team, endpoint=next(endpoints), input={}, status=status
            )


def test_the_team_list(owner_client, owner, django_assert_num_queries):
    add_teams(owner, 1)
    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        "/teams/",
        lambda: add_teams(owner, 8),
        found(r'href="/teams/\d+/"'),
    )


def test_the_team_page_members_and_invite_links(
    owner_client, owner, team, django_assert_num_queries
):
    add_members(team, 1)
    add_invites(team, owner, 1)

    def grow():
        add_members(team, 9)
        add_invites(team, owner, 5)

    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        f"/teams/{team.pk}/",
        grow,
        lambda html: html.count('class="member"') + html.count('id="invite-'),
    )


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_activity_log(owner_client, team, htmx, django_assert_num_queries):
    add_activity(team, 2)
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        f"/teams/{team.pk}/activity",
        lambda: add_activity(team, 20),
        lambda html: html.count("<time "),
        **extra,
    )


def test_the_usage_page(owner_client, team, django_assert_num_queries):
    add_usage(team, 1)
    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        f"/teams/{team.pk}/usage",
        lambda: add_usage(team, 6),
        found(r"\?member=\d+"),
    )


def test_an_images_share_links(owner_client, owner, team, django_assert_num_queries):
    image = ImageFactory(owner=owner, team=team)
    create_share_link(image, owner, 7)

    def grow():
        for _ in range(5):
            create_share_link(image, owner, 7)
        add_teams(owner, 4)  # more teams to share with, in the form

    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        f"/teams/images/{image.pk}/sharing",
        grow,
        lambda html: html.count('id="share-link-') + html.count("<option"),
    )
