"""The rules of teams: teams and their members, roles, invite links, the daily quota's value.

Views call these and show their refusals (``TeamRuleError``, whose ``str()`` is a sentence
for people); every change worth knowing about is written to the team's activity log.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction

from teams.activity import record
from teams.models import INVITE_DAYS, Invite, Membership, Role, Team

INVITE_SALT = "teams.invite"


class TeamRuleError(Exception):
    """An action the team's rules refuse; ``str()`` says why, for people."""


class InviteInvalid(Exception):
    """An invite link that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


# --- teams and members --------------------------------------------------------------------


def create_team(user, name: str) -> Team:
    """A new team; its creator is its first owner."""
    with transaction.atomic():
        team = Team.objects.create(name=name, created_by=user)
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
        record(team, user, "created", f"created the team “{name}”")
    return team


def rename_team(team: Team, by, name: str) -> Team:
    old = team.name
    if name != old:
        team.name = name
        team.save(update_fields=["name"])
        record(team, by, "renamed", f"renamed the team from “{old}” to “{name}”")
    return team


def _lock(team: Team) -> Team:
    """Serialise changes to one team's members (so two owners can't both step down)."""
    return Team.objects.select_for_update().get(pk=team.pk)


def _owner_count(team: Team) -> int:
    return Membership.objects.filter(team=team, role=Role.OWNER).count()


def add_member(team: Team, by, username: str, role: str) -> Membership:
    """Add a signed-up user to the team by username (an owner's invite)."""
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
    if user is None:
        raise TeamRuleError(f"No one is signed up as “{username}”. Check the spelling.")
    with transaction.atomic():
        _lock(team)
        existing = Membership.objects.filter(team=team, user=user).first()
        if existing is not None:
            raise TeamRuleError(
                f"{username} is already a member of {team.name} "
                f"(as {existing.get_role_display().lower()})."
            )
        membership = Membership.objects.create(team=team, user=user, role=role)
        record(team, by, "added", f"added {username} as {membership.get_role_display().lower()}")
    return membership


def change_role(team: Team, by, user_id: int, role: str) -> Membership:
    """Give a member another role; the team always keeps an owner."""
    with transaction.atomic():
        _lock(team)
        membership = (
            Membership.objects.select_related("user").filter(team=team, user_id=user_id).first()
        )
        if membership is None:
            raise TeamRuleError("That person is not a member of this team.")
        old = membership.role
        if old == role:
            return membership
        if old == Role.OWNER and _owner_count(team) == 1:
            raise TeamRuleError(
                f"{membership.user.get_username()} is the team's only owner: "
                "make someone else an owner first."
            )
        membership.role = role
        membership.save(update_fields=["role"])
        record(
            team,
            by,
            "role_changed",
            f"changed {membership.user.get_username()}'s role from "
            f"{Role(old).label.lower()} to {Role(role).label.lower()}",
        )
    return membership


def remove_member(team: Team, by, user_id: int) -> None:
    """Take a member out of the team; their access ends with this transaction."""
    with transaction.atomic():
        _lock(team)
        membership = (
            Membership.objects.select_related("user").filter(team=team, user_id=user_id).first()
        )
        if membership is None:
            raise TeamRuleError("That person is not a member of this team.")
        if membership.role == Role.OWNER and _owner_count(team) == 1:
            raise TeamRuleError(
                f"{membership.user.get_username()} is the team's only owner and cannot be "
                "removed: make someone else an owner first."
            )
        username = membership.user.get_username()
        membership.delete()
        record(team, by, "removed", f"removed {username} from the team")


def leave_consequence(team: Team, user) -> str:
    """What leaving would do: "leave", "delete" (the only member) or "blocked" (last owner)."""
    members = Membership.objects.filter(team=team)
    if members.count() == 1:
        return "delete"
    if members.filter(user=user, role=Role.OWNER).exists() and _owner_count(team) == 1:
        return "blocked"
    return "leave"


def leave_team(team: Team, user) -> bool:
    """The user leaves; True when they were the only member and the team was deleted."""
    with transaction.atomic():
        _lock(team)
        consequence = leave_consequence(team, user)
        if consequence == "blocked":
            raise TeamRuleError(
                "You are the team's only owner: make another member an owner before you leave."
            )
        if consequence == "delete":
            team.delete()
            return True
        Membership.objects.filter(team=team, user=user).delete()
        record(team, user, "left", "left the team")
    return False


def delete_team(team: Team) -> None:
    """Delete the team with its images (their files go with them), invites and log."""
    team.delete()


# --- invite links -------------------------------------------------------------------------


def create_invite(team: Team, by, role: str) -> Invite:
    invite = Invite.objects.create(
        team=team, role=role, created_by=by, nonce=secrets.token_urlsafe(12)
    )
    record(team, by, "invite_created", f"made an invite link for new {Role(role).label.lower()}s")
    return invite


def invite_token(invite: Invite) -> str:
    """The signed value in the invite's URL: the invite's id, team, role and nonce."""
    return signing.dumps(
        {"i": invite.pk, "t": invite.team_id, "r": invite.role, "n": invite.nonce},
        salt=INVITE_SALT,
        compress=True,
    )


def read_invite(value: str) -> Invite:
    """The live invite behind a link, or InviteInvalid saying why not."""
    try:
        data = signing.loads(value, salt=INVITE_SALT, max_age=timedelta(days=INVITE_DAYS))
    except signing.SignatureExpired:
        raise InviteInvalid(
            "This invite link has expired. Ask a team owner for a new one.", 410
        ) from None
    except signing.BadSignature:
        raise InviteInvalid(
            "This invite link is not valid. Check that you copied all of it.", 404
        ) from None
    if not isinstance(data, dict):
        raise InviteInvalid("This invite link is not valid.", 404)
    invite = (
        Invite.objects.select_related("team")
        .filter(pk=data.get("i"), team_id=data.get("t"), role=data.get("r"), nonce=data.get("n"))
        .first()
    )
    if invite is None:
        raise InviteInvalid("This invite link is not valid (its team may be gone).", 404)
    if invite.revoked:
        raise InviteInvalid(
            "This invite link was withdrawn by a team owner. Ask them for a new one.", 410
        )
    if not invite.is_live:
        raise InviteInvalid("This invite link has expired. Ask a team owner for a new one.", 410)
    return invite


def accept_invite(invite: Invite, user) -> Membership | None:
    """Join the team; None when the user already is a member (their role is kept)."""
    with transaction.atomic():
        _lock(invite.team)
        if Membership.objects.filter(team=invite.team, user=user).exists():
            return None
        membership = Membership.objects.create(team=invite.team, user=user, role=invite.role)
        Invite.objects.filter(pk=invite.pk).update(uses=invite.uses + 1)
        record(
            invite.team,
            user,
            "joined",
            f"joined as {membership.get_role_display().lower()} with an invite link",
        )
    return membership


def revoke_invite(invite: Invite, by) -> None:
    if not invite.revoked:
        invite.revoked = True
        invite.save(update_fields=["revoked"])
        record(invite.team, by, "invite_revoked", "withdrew an invite link")


# --- the team's settings -----------------------------------------------------------------


def set_quota(team: Team, by, quota: int | None) -> None:
    if team.daily_job_quota == quota:
        return
    team.daily_job_quota = quota
    team.save(update_fields=["daily_job_quota"])
    if quota is None:
        record(team, by, "quota_changed", "removed the daily job quota")
    else:
        record(team, by, "quota_changed", f"set the daily job quota to {quota} per member")
