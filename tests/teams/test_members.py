"""Members: adding by username, roles, removing, leaving; the team always keeps an owner."""

from __future__ import annotations

import pytest
from django.urls import reverse

from teams.membership import TeamRuleError, remove_member
from teams.models import Activity, Membership, Role, Team
from tests.conftest import client_for, html
from tests.factories import ImageFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def role_of(team, user) -> str | None:
    return team.role_of(user)


def test_owner_adds_a_member_by_username(owner_client, team, outsider):
    url = reverse("teams:member-add", args=[team.pk])
    response = owner_client.post(url, {"username": "outsider", "role": "editor"})
    assert response.status_code == 302
    assert role_of(team, outsider) == Role.EDITOR
    assert Activity.objects.get(team=team, verb="added").detail == "added outsider as editor"


def test_unknown_username_is_a_clear_error(owner_client, team):
    url = reverse("teams:member-add", args=[team.pk])
    response = owner_client.post(url, {"username": "nobody", "role": "viewer"})
    assert response.status_code == 422
    assert "No one is signed up as “nobody”" in html(response)
    assert Membership.objects.filter(team=team).count() == 1


def test_already_a_member_is_a_clear_error(owner_client, team, member):
    url = reverse("teams:member-add", args=[team.pk])
    response = owner_client.post(url, {"username": "member", "role": "viewer"})
    assert response.status_code == 422
    assert "member is already a member of Studio team (as editor)" in html(response)
    assert role_of(team, member) == Role.EDITOR


def test_htmx_add_answers_the_members_panel(owner_client, team, outsider):
    response = owner_client.post(
        reverse("teams:member-add", args=[team.pk]),
        {"username": "outsider", "role": "viewer"},
        headers={"HX-Request": "true"},
    )
    page = html(response)
    assert response.status_code == 200 and "<html" not in page
    assert 'id="members"' in page and "outsider" in page


def test_non_owners_cannot_add(member_client, viewer_client, outsider_client, team, outsider):
    url = reverse("teams:member-add", args=[team.pk])
    data = {"username": "outsider", "role": "owner"}
    assert member_client.post(url, data).status_code == 403
    assert viewer_client.post(url, data).status_code == 403
    assert outsider_client.post(url, data).status_code == 404
    assert role_of(team, outsider) is None


def test_change_role(owner_client, team, viewer):
    url = reverse("teams:member-role", args=[team.pk, viewer.pk])
    assert owner_client.post(url, {"role": "editor"}).status_code == 302
    assert role_of(team, viewer) == Role.EDITOR
    entry = Activity.objects.get(team=team, verb="role_changed")
    assert entry.detail == "changed viewer's role from viewer to editor"


def test_last_owner_cannot_be_demoted(owner_client, owner, team, member):
    url = reverse("teams:member-role", args=[team.pk, owner.pk])
    response = owner_client.post(url, {"role": "editor"})
    assert response.status_code == 422
    assert "only owner: make someone else an owner first" in html(response)
    assert role_of(team, owner) == Role.OWNER


def test_an_owner_may_step_down_when_another_owner_remains(owner_client, owner, team, member):
    owner_client.post(reverse("teams:member-role", args=[team.pk, member.pk]), {"role": "owner"})
    response = owner_client.post(
        reverse("teams:member-role", args=[team.pk, owner.pk]), {"role": "viewer"}
    )
    assert response.status_code == 302
    assert role_of(team, owner) == Role.VIEWER and role_of(team, member) == Role.OWNER


def test_bad_role_is_refused(owner_client, team, viewer):
    url = reverse("teams:member-role", args=[team.pk, viewer.pk])
    assert owner_client.post(url, {"role": "admin"}).status_code == 422
    assert role_of(team, viewer) == Role.VIEWER


def test_remove_member_ends_access_at_once(owner_client, owner, team, member):
    image = ImageFactory(owner=owner, team=team)
    member_client = client_for(member)
    urls = [
        reverse("teams:detail", args=[team.pk]),
        reverse("gallery:detail", args=[image.pk]),
        reverse("gallery:file", args=[image.pk]),
        reverse("gallery:thumbnail", args=[image.pk]),
    ]
    assert [member_client.get(url).status_code for url in urls] == [200] * 4

    response = owner_client.post(reverse("teams:member-remove", args=[team.pk, member.pk]))
    assert response.status_code == 302
    assert [member_client.get(url).status_code for url in urls] == [404] * 4
    assert Activity.objects.get(team=team, verb="removed").detail == "removed member from the team"


def test_the_last_owner_cannot_be_removed(owner, team, member):
    with pytest.raises(TeamRuleError, match="only owner and cannot be removed"):
        remove_member(team, member, owner.pk)
    assert role_of(team, owner) == Role.OWNER


def test_owner_removing_themselves_is_told_to_leave(owner_client, owner, team):
    response = owner_client.post(reverse("teams:member-remove", args=[team.pk, owner.pk]))
    assert response.status_code == 422 and "Leave team" in html(response)


def test_removing_someone_not_in_the_team(owner_client, team, outsider):
    response = owner_client.post(reverse("teams:member-remove", args=[team.pk, outsider.pk]))
    assert response.status_code == 422 and "not a member" in html(response)


def test_member_leaves(member_client, team, member):
    confirm = member_client.get(reverse("teams:leave", args=[team.pk]))
    assert "You will no longer see the team" in html(confirm)
    response = member_client.post(reverse("teams:leave", args=[team.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("teams:list")
    assert role_of(team, member) is None
    assert Activity.objects.get(team=team, verb="left").actor == member


def test_last_owner_cannot_leave_while_others_remain(owner_client, owner, team, member):
    assert "Make another member an owner" in html(
        owner_client.get(reverse("teams:leave", args=[team.pk]))
    )
    response = owner_client.post(reverse("teams:leave", args=[team.pk]))
    assert response.status_code == 422
    assert role_of(team, owner) == Role.OWNER


def test_only_member_leaving_deletes_the_team_after_confirmation(owner_client, owner, team):
    ImageFactory(owner=owner, team=team)
    confirm = owner_client.get(reverse("teams:leave", args=[team.pk]))
    assert "leaving deletes the team and its 1 image" in html(confirm)
    assert Team.objects.filter(pk=team.pk).exists()  # nothing happens on GET
    response = owner_client.post(reverse("teams:leave", args=[team.pk]))
    assert response.status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()


def test_outsider_cannot_leave_or_manage(outsider_client, team, member):
    assert outsider_client.get(reverse("teams:leave", args=[team.pk])).status_code == 404
    url = reverse("teams:member-role", args=[team.pk, member.pk])
    assert outsider_client.post(url, {"role": "viewer"}).status_code == 404


def test_member_removed_from_one_team_keeps_the_other(owner, team, member):
    other = Team.objects.create(name="Other")
    MembershipFactory(team=other, user=UserFactory(), role=Role.OWNER)
    MembershipFactory(team=other, user=member, role=Role.VIEWER)
    image = ImageFactory(owner=owner, team=team)
    remove_member(team, owner, member.pk)
    client = client_for(member)
    assert client.get(reverse("gallery:detail", args=[image.pk])).status_code == 404
    assert client.get(reverse("teams:detail", args=[other.pk])).status_code == 200


def test_htmx_stepping_down_reloads_the_page(owner_client, owner, team, member):
    owner_client.post(reverse("teams:member-role", args=[team.pk, member.pk]), {"role": "owner"})
    response = owner_client.post(
        reverse("teams:member-role", args=[team.pk, owner.pk]),
        {"role": "editor"},
        headers={"HX-Request": "true"},
    )
    assert response["HX-Redirect"] == team.get_absolute_url()
    assert role_of(team, owner) == Role.EDITOR


def test_htmx_member_action_shows_its_message_in_the_panel(owner_client, team, outsider):
    response = owner_client.post(
        reverse("teams:member-add", args=[team.pk]),
        {"username": "outsider", "role": "viewer"},
        headers={"HX-Request": "true"},
    )
    assert "Added outsider as viewer." in html(response)
