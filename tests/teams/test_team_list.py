"""/teams/: the user's teams with their role and member count, and creating a team."""

from __future__ import annotations

import pytest
from django.urls import reverse

from teams.models import Activity, Membership, Role, Team
from tests.conftest import client_for, html
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_lists_my_teams_with_role_and_member_count(owner_client, owner, team, member, viewer):
    other = Team.objects.create(name="Other crew")
    MembershipFactory(team=other, user=owner, role=Role.VIEWER)
    hidden = Team.objects.create(name="Not mine")
    MembershipFactory(team=hidden, user=UserFactory(), role=Role.OWNER)

    response = owner_client.get(reverse("teams:list"))
    assert response.status_code == 200
    rows = {m.team.name: m for m in response.context["memberships"]}
    assert set(rows) == {"Studio team", "Other crew"}
    assert rows["Studio team"].role == Role.OWNER and rows["Studio team"].member_count == 3
    assert rows["Other crew"].role == Role.VIEWER and rows["Other crew"].member_count == 1
    page = html(response)
    assert f'href="{reverse("teams:detail", args=[team.pk])}"' in page
    assert "Not mine" not in page


def test_empty_state(outsider_client):
    page = html(outsider_client.get(reverse("teams:list")))
    assert "You are not in any team yet" in page
    assert 'action="/teams/new"' in page


def test_create_team_makes_the_creator_its_owner(outsider_client, outsider):
    response = outsider_client.post(reverse("teams:create"), {"name": "  Night   shift "})
    team = Team.objects.get()
    assert response.status_code == 302 and response["Location"] == team.get_absolute_url()
    assert team.name == "Night shift" and team.created_by == outsider
    assert Membership.objects.get(team=team).role == Role.OWNER
    assert Activity.objects.get(team=team).verb == "created"


def test_blank_name_is_refused(outsider_client):
    response = outsider_client.post(reverse("teams:create"), {"name": "   "})
    assert response.status_code == 422
    assert "This field is required." in html(response) or "Give the team a name" in html(response)
    assert not Team.objects.exists()


def test_signed_out_goes_to_sign_in(client):
    response = client.get(reverse("teams:list"))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_team_names_and_usernames_are_escaped(owner, team):
    team.name = "<script>alert('team')</script>"
    team.save()
    odd = UserFactory(username="<b>bold</b>")
    MembershipFactory(team=team, user=odd, role=Role.EDITOR)
    client = client_for(owner)
    for url in (reverse("teams:list"), reverse("teams:detail", args=[team.pk])):
        page = html(client.get(url))
        assert "<script>alert(" not in page
        assert "&lt;script&gt;alert(&#x27;team&#x27;)&lt;/script&gt;" in page
    page = html(client.get(reverse("teams:detail", args=[team.pk])))
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
