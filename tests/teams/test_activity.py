"""The team's log: who generated, shared, deleted, changed roles, joined, left, set the token."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from gallery.models import Image
from teams.activity import record
from teams.membership import accept_invite, change_role, create_invite, leave_team
from teams.models import Activity, Role
from teams.tokens import remove_team_token, set_team_token
from tests.conftest import html
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


def entries(team) -> list[tuple[str | None, str, str]]:
    return [
        (a.actor.username if a.actor else None, a.verb, a.detail)
        for a in Activity.objects.filter(team=team).select_related("actor")
    ]


def test_generating_into_the_team_is_logged(member_client, member, team, no_submit):
    member_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a red fox in the snow", "canvas": "Square", "count": 2, "save_to": team.pk},
    )
    assert entries(team) == [
        ("member", "generated", "started 2 jobs with FLUX Dev: “a red fox in the snow”")
    ]


def test_private_jobs_are_not_logged(member_client, team, no_submit):
    member_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a fox", "canvas": "Square", "save_to": ""},
    )
    assert entries(team) == []


def test_sharing_and_unsharing_are_logged(member_client, member, team):
    image = ImageFactory(owner=member, prompt="a quiet harbour")
    url = reverse("sharing:image-share", args=[image.pk])
    member_client.post(url, {"team": team.pk})
    member_client.post(url, {"team": ""})
    assert entries(team) == [
        ("member", "unshared", f"took image #{image.pk} “a quiet harbour” out of the team"),
        ("member", "shared", f"shared image #{image.pk} “a quiet harbour”"),
    ]


def test_deleting_through_the_gallery_is_logged_with_who_deleted(
    member_client, owner, team, django_capture_on_commit_callbacks
):
    image = ImageFactory(owner=owner, team=team, prompt="a lighthouse")
    private = ImageFactory(owner=owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("gallery:delete"), {"ids": [image.pk]})
    assert response.status_code == 302
    assert not Image.objects.filter(pk=image.pk).exists()
    assert entries(team) == [("member", "deleted", f"deleted image #{image.pk} “a lighthouse”")]
    private.delete()  # a private image leaves no trace in any team's log
    assert Activity.objects.count() == 1


def test_deleting_an_authors_account_is_logged_without_an_actor(owner, team, member):
    image = ImageFactory(owner=member, team=team)
    member.delete()
    connection.check_constraints()  # the new entry points at no deleted account
    assert not Image.objects.filter(pk=image.pk).exists()
    [(actor, verb, detail)] = entries(team)
    assert actor is None and verb == "removed_with_account"
    assert detail.endswith("was removed with its author's account")


def test_deleting_the_team_writes_no_log_for_its_images(owner, team):
    ImageFactory(owner=owner, team=team)
    team.delete()
    assert not Activity.objects.exists()


def test_roles_joins_leaves_and_tokens_are_logged(owner, team, member, outsider):
    change_role(team, owner, member.pk, Role.VIEWER)
    accept_invite(create_invite(team, owner, Role.EDITOR), outsider)
    leave_team(team, outsider)
    set_team_token(team, owner, "a-team-token-abcd")
    remove_team_token(team, owner)
    assert [(actor, verb) for actor, verb, _ in entries(team)] == [
        ("owner", "token_removed"),
        ("owner", "token_set"),
        ("outsider", "left"),
        ("outsider", "joined"),
        ("owner", "invite_created"),
        ("owner", "role_changed"),
    ]


def test_log_is_shown_escaped_newest_first(owner_client, owner, team):
    record(team, owner, "test", "first <em>thing</em>")
    record(team, owner, "test", "second thing")
    page = html(owner_client.get(reverse("teams:detail", args=[team.pk])))
    assert page.index("second thing") < page.index("first &lt;em&gt;thing&lt;/em&gt;")
    assert "<em>thing</em>" not in page


def test_a_deleted_actor_reads_as_someone(owner_client, owner, team, member):
    record(team, member, "test", "did something")
    member.delete()
    assert "<strong>Someone</strong> did something" in html(
        owner_client.get(reverse("teams:activity", args=[team.pk]))
    )
