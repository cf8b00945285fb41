"""Signed invite links: seven days, revocable, tamper-proof; accepting adds the signed-in user."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from teams.membership import create_invite, invite_token
from teams.models import Activity, Invite, Role
from tests.conftest import html

pytestmark = pytest.mark.django_db


def join_url(invite: Invite) -> str:
    return reverse("teams:join", args=[invite_token(invite)])


def test_owner_makes_a_link_and_it_is_shown(owner_client, team):
    response = owner_client.post(reverse("teams:invite-create", args=[team.pk]), {"role": "editor"})
    assert response.status_code == 302
    invite = Invite.objects.get(team=team)
    assert invite.role == Role.EDITOR and not invite.revoked and invite.uses == 0
    page = html(owner_client.get(reverse("teams:detail", args=[team.pk])))
    links = re.findall(r'value="(http://testserver/teams/join/[^"]+)"', page)
    assert len(links) == 1
    assert Activity.objects.filter(team=team, verb="invite_created").exists()


def test_accepting_adds_the_signed_in_user(outsider_client, outsider, owner, team):
    invite = create_invite(team, owner, Role.EDITOR)
    url = join_url(invite)
    page = html(outsider_client.get(url))
    assert "Join Studio team" in page and "<strong>editor</strong>" in page
    assert team.role_of(outsider) is None  # GET joins nobody

    response = outsider_client.post(url)
    assert response.status_code == 302 and response["Location"] == team.get_absolute_url()
    assert team.role_of(outsider) == Role.EDITOR
    invite.refresh_from_db()
    assert invite.uses == 1
    entry = Activity.objects.get(team=team, verb="joined")
    assert entry.actor == outsider and "as editor" in entry.detail


def test_a_member_keeps_their_role(member_client, member, owner, team):
    url = join_url(create_invite(team, owner, Role.VIEWER))
    assert "You are already in Studio team" in html(member_client.get(url))
    member_client.post(url)
    assert team.role_of(member) == Role.EDITOR


def test_signed_out_visitor_signs_in_first(client, owner, team):
    url = join_url(create_invite(team, owner, Role.VIEWER))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=" in response["Location"]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),
        lambda v: "x" + v,
        lambda v: "not-a-link",
    ],
    ids=["signature", "payload", "garbage"],
)
def test_tampered_link_is_refused(outsider_client, outsider, owner, team, mangle):
    value = invite_token(create_invite(team, owner, Role.OWNER))
    response = outsider_client.post(reverse("teams:join", args=[mangle(value)]))
    assert response.status_code == 404
    assert "This invite link is not valid" in html(response)
    assert team.role_of(outsider) is None


def test_forged_role_in_a_signed_payload_is_refused(outsider_client, outsider, owner, team):
    invite = create_invite(team, owner, Role.VIEWER)
    # Signed with the right key, but the row says viewer: the row wins.
    forged = signing.dumps(
        {"i": invite.pk, "t": team.pk, "r": "owner", "n": invite.nonce}, salt="teams.invite"
    )
    assert outsider_client.post(reverse("teams:join", args=[forged])).status_code == 404
    assert team.role_of(outsider) is None


def test_expired_signature_is_refused(outsider_client, outsider, owner, team, monkeypatch):
    invite = create_invite(team, owner, Role.VIEWER)
    eight_days_ago = time.time() - 8 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: eight_days_ago)
    value = invite_token(invite)
    monkeypatch.undo()
    response = outsider_client.post(reverse("teams:join", args=[value]))
    assert response.status_code == 410
    assert "This invite link has expired" in html(response)
    assert team.role_of(outsider) is None


def test_expired_invite_row_is_refused(outsider_client, outsider, owner, team):
    invite = create_invite(team, owner, Role.VIEWER)
    Invite.objects.filter(pk=invite.pk).update(
        created_at=timezone.now() - timedelta(days=7, minutes=1)
    )
    response = outsider_client.get(join_url(invite))
    assert response.status_code == 410 and "has expired" in html(response)


def test_revoked_link_is_refused(owner_client, outsider_client, outsider, owner, team):
    invite = create_invite(team, owner, Role.VIEWER)
    url = join_url(invite)
    response = owner_client.post(reverse("teams:invite-revoke", args=[team.pk, invite.pk]))
    assert response.status_code == 302
    invite.refresh_from_db()
    assert invite.revoked
    refused = outsider_client.post(url)
    assert refused.status_code == 410 and "withdrawn" in html(refused)
    assert team.role_of(outsider) is None
    assert url not in html(owner_client.get(reverse("teams:detail", args=[team.pk])))


def test_link_of_a_deleted_team_is_refused(outsider_client, owner, team):
    url = join_url(create_invite(team, owner, Role.VIEWER))
    team.delete()
    assert outsider_client.get(url).status_code == 404


def test_only_owners_make_and_revoke_links(
    member_client, viewer_client, outsider_client, owner, team
):
    create_url = reverse("teams:invite-create", args=[team.pk])
    assert member_client.post(create_url, {"role": "viewer"}).status_code == 403
    assert viewer_client.post(create_url, {"role": "viewer"}).status_code == 403
    assert outsider_client.post(create_url, {"role": "viewer"}).status_code == 404
    invite = create_invite(team, owner, Role.VIEWER)
    revoke_url = reverse("teams:invite-revoke", args=[team.pk, invite.pk])
    assert member_client.post(revoke_url).status_code == 403
    assert outsider_client.post(revoke_url).status_code == 404
    invite.refresh_from_db()
    assert not invite.revoked


def test_an_invite_of_another_team_cannot_be_revoked_through_mine(owner_client, outsider, team):
    from teams.membership import create_team

    theirs = create_team(outsider, "Theirs")
    invite = create_invite(theirs, outsider, Role.VIEWER)
    response = owner_client.post(reverse("teams:invite-revoke", args=[team.pk, invite.pk]))
    assert response.status_code == 404
    invite.refresh_from_db()
    assert not invite.revoked
