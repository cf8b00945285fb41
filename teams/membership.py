"""The rules of teams: members and roles, invites, the team's token and quota, sharing.

Views call these and show their refusals (``TeamRuleError``, whose ``str()`` is a sentence
for people); every change worth knowing about is written to the team's activity log.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from teams.crypto import decrypt_token, encrypt_token
from teams.models import (
    CAN_EDIT,
    INVITE_DAYS,
    Activity,
    Invite,
    Membership,
    Role,
    ShareLink,
    Team,
)

INVITE_SALT = "teams.invite"
SHARE_LINK_SALT = "teams.share-link"
SHARE_LINK_DAYS = (1, 7, 30)
USAGE_DAYS = 30
TOKEN_MIN_LENGTH = 8
TOKEN_MAX_LENGTH = 500


class TeamRuleError(Exception):
    """An action the team's rules refuse; ``str()`` says why, for people."""


class TeamSubmitRefused(TeamRuleError):
    """A submit into a team that may not happen (not an editor, or over the daily quota)."""


class QuotaExceeded(TeamSubmitRefused):
    """The member has used their daily jobs in this team."""


class InviteInvalid(Exception):
    """An invite link that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


# --- the activity log ---------------------------------------------------------------------


def record(team: Team | int, actor, verb: str, detail: str) -> Activity:
    """One entry in the team's log (``detail`` reads after the actor's name)."""
    team_id = team if isinstance(team, int) else team.pk
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return Activity.objects.create(team_id=team_id, actor=actor, verb=verb, detail=detail[:300])


def _quoted(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    if not text:
        return ""
    return f"“{text[: limit - 1]}…”" if len(text) > limit else f"“{text}”"


def image_label(image) -> str:
    prompt = _quoted(image.prompt)
    return f"image #{image.pk}" + (f" {prompt}" if prompt else "")


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


# --- the team's API token -----------------------------------------------------------------


def clean_token(raw: str) -> str:
    token = raw.strip()
    if len(token) < TOKEN_MIN_LENGTH:
        raise TeamRuleError(f"That is too short for an API token ({TOKEN_MIN_LENGTH}+ characters).")
    if len(token) > TOKEN_MAX_LENGTH:
        raise TeamRuleError("That is too long for an API token.")
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        raise TeamRuleError("An API token has no spaces or line breaks.")
    return token


@sensitive_variables("raw", "token")
def set_team_token(team: Team, by, raw: str) -> None:
    """Store (or replace) the team's own token, encrypted; only its last four stay readable."""
    token = clean_token(raw)
    replaced = bool(team.api_token_encrypted)
    team.api_token_encrypted = encrypt_token(token)
    team.api_token_last4 = token[-4:]
    team.save(update_fields=["api_token_encrypted", "api_token_last4"])
    record(
        team,
        by,
        "token_set",
        f"{'replaced' if replaced else 'set'} the team's API token (…{team.api_token_last4})",
    )


def remove_team_token(team: Team, by) -> None:
    if not team.api_token_encrypted:
        return
    team.api_token_encrypted = ""
    team.api_token_last4 = ""
    team.save(update_fields=["api_token_encrypted", "api_token_last4"])
    record(team, by, "token_removed", "removed the team's API token")


@sensitive_variables()
def team_api_token(team: Team) -> str | None:
    """The team's token in clear, for its jobs' API calls; None when it has none."""
    if not team.api_token_encrypted:
        return None
    return decrypt_token(team.api_token_encrypted)


# --- daily quota --------------------------------------------------------------------------


def day_start(now: datetime | None = None) -> datetime:
    """Midnight today in the site's time zone (settings.TIME_ZONE)."""
    local = (now or timezone.now()).astimezone(ZoneInfo(settings.TIME_ZONE))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def jobs_today(team: Team, user) -> int:
    from jobs.models import Job

    return Job.objects.filter(team=team, owner=user, created_at__gte=day_start()).count()


def quota_message(team: Team, used: int) -> str:
    return (
        f"You have used {used} of your {team.daily_job_quota} jobs for today in {team.name}. "
        "The count starts again at midnight."
    )


def check_quota(team: Team, user, count: int) -> None:
    """Refuse ``count`` more jobs over the member's daily quota (no lock: a form's check)."""
    if team.daily_job_quota is None:
        return
    used = jobs_today(team, user)
    if used + count > team.daily_job_quota:
        raise QuotaExceeded(quota_message(team, used))


def claim_team_jobs(team: Team, user, count: int) -> None:
    """Inside the transaction that creates the jobs: may ``user`` start ``count`` of them?

    The member's row is locked first, so concurrent submits of one member are counted one
    after the other (PostgreSQL; SQLite's immediate transactions serialise writers anyway).
    """
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("team")
        .filter(team_id=team.pk, user=user)
        .first()
    )
    if membership is None or membership.role not in CAN_EDIT:
        raise TeamSubmitRefused(
            f"You can't save images to {team.name}: only its owners and editors can."
        )
    check_quota(membership.team, user, count)


def note_generated(team: Team, user, endpoint_title: str, count: int, prompt: str) -> None:
    what = f"started {count} job{'s' if count != 1 else ''} with {endpoint_title}"
    quoted = _quoted(prompt)
    record(team, user, "generated", f"{what}: {quoted}" if quoted else what)


def set_quota(team: Team, by, quota: int | None) -> None:
    if team.daily_job_quota == quota:
        return
    team.daily_job_quota = quota
    team.save(update_fields=["daily_job_quota"])
    if quota is None:
        record(team, by, "quota_changed", "removed the daily job quota")
    else:
        record(team, by, "quota_changed", f"set the daily job quota to {quota} per member")


# --- sharing images -----------------------------------------------------------------------


def share_image(image, by, team: Team | None) -> None:
    """Move one of ``by``'s images into a team (an editor's) or make it private again."""
    if image.owner_id != by.pk:
        raise TeamRuleError("Only the image's author can choose where it is shared.")
    if team is not None and not Team.objects.editable_by(by).filter(pk=team.pk).exists():
        raise TeamRuleError("You can only share with teams where you are an owner or editor.")
    old_team_id = image.team_id
    new_team_id = team.pk if team else None
    if old_team_id == new_team_id:
        return
    with transaction.atomic():
        image.team = team
        image.save(update_fields=["team"])
        if old_team_id is not None:
            record(old_team_id, by, "unshared", f"took {image_label(image)} out of the team")
        if team is not None:
            record(team, by, "shared", f"shared {image_label(image)}")


# --- public links -------------------------------------------------------------------------


def create_share_link(image, by, days: int) -> ShareLink:
    if days not in SHARE_LINK_DAYS:
        raise TeamRuleError("Choose how long the link lasts: 1, 7 or 30 days.")
    link = ShareLink.objects.create(
        image=image, created_by=by, expires_at=timezone.now() + timedelta(days=days)
    )
    if image.team_id:
        record(image.team_id, by, "link_created", f"made a public link to {image_label(image)}")
    return link


def share_link_token(link: ShareLink) -> str:
    return signing.dumps(link.pk, salt=SHARE_LINK_SALT)


def read_share_link(value: str) -> ShareLink | None:
    """The live link behind a URL value; None when tampered with, expired or revoked."""
    try:
        pk = signing.loads(
            value, salt=SHARE_LINK_SALT, max_age=timedelta(days=max(SHARE_LINK_DAYS) + 1)
        )
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return ShareLink.objects.live().select_related("image").filter(pk=pk).first()


def revoke_share_link(link: ShareLink, by) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        if link.image.team_id:
            record(
                link.image.team_id,
                by,
                "link_revoked",
                f"withdrew a public link to {image_label(link.image)}",
            )


# --- usage --------------------------------------------------------------------------------


def _counts() -> dict:
    from jobs.models import Stage

    return {
        "jobs": Count("id"),
        "succeeded": Count("id", filter=Q(status=Stage.SUCCEEDED)),
        "failed": Count("id", filter=Q(status=Stage.FAILED)),
    }


def team_usage(team: Team, member_id: int | None = None, days: int = USAGE_DAYS) -> dict:
    """Jobs, successes and failures of the last ``days`` days: in all, per member, per model
    and per day; a fixed number of queries whatever the number of jobs or members."""
    from jobs.models import Job
    from openjourney.catalog import UnknownEndpoint, get_endpoint

    tz = ZoneInfo(settings.TIME_ZONE)
    first_day = day_start() - timedelta(days=days - 1)
    jobs = Job.objects.filter(team=team, created_at__gte=first_day).order_by()
    if member_id is not None:
        jobs = jobs.filter(owner_id=member_id)

    totals = jobs.aggregate(**_counts())
    per_member = {
        row["owner_id"]: row
        for row in jobs.values("owner_id", "owner__username").annotate(**_counts())
    }
    per_model = list(jobs.values("endpoint").annotate(**_counts()).order_by("-jobs", "endpoint"))
    for row in per_model:
        try:
            row["title"] = get_endpoint(row["endpoint"]).display_title
        except UnknownEndpoint:
            row["title"] = row["endpoint"]
    per_day_rows = {
        row["day"]: row
        for row in jobs.annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(**_counts())
    }
    per_day = []
    for offset in range(days):
        day = (first_day + timedelta(days=offset)).date()
        row = per_day_rows.get(day, {})
        per_day.append(
            {
                "day": day,
                "jobs": row.get("jobs", 0),
                "succeeded": row.get("succeeded", 0),
                "failed": row.get("failed", 0),
            }
        )

    members = []
    for membership in Membership.objects.filter(team=team).select_related("user"):
        row = per_member.pop(membership.user_id, {})
        if member_id is not None and membership.user_id != member_id:
            continue
        members.append(
            {
                "user_id": membership.user_id,
                "username": membership.user.get_username(),
                "role": membership.get_role_display(),
                "jobs": row.get("jobs", 0),
                "succeeded": row.get("succeeded", 0),
                "failed": row.get("failed", 0),
            }
        )
    # People who used the team and have left since.
    for owner_id, row in per_member.items():
        members.append(
            {
                "user_id": owner_id,
                "username": row["owner__username"],
                "role": "Former member",
                "jobs": row["jobs"],
                "succeeded": row["succeeded"],
                "failed": row["failed"],
            }
        )
    members.sort(key=lambda m: (-m["jobs"], m["username"]))
    return {
        "days": days,
        "since": first_day.date(),
        "totals": totals,
        "members": members,
        "models": per_model,
        "per_day": per_day,
        "chart": usage_chart(per_day),
    }


CHART_WIDTH = 600
CHART_HEIGHT = 160
CHART_LABEL_SPACE = 18


def usage_chart(per_day: list[dict]) -> dict:
    """Bars for an inline SVG: one per day, successes and failures stacked on the rest."""
    peak = max((row["jobs"] for row in per_day), default=0) or 1
    slot = CHART_WIDTH / max(len(per_day), 1)
    width = max(slot - 2, 1)
    plot = CHART_HEIGHT - CHART_LABEL_SPACE
    bars = []
    for index, row in enumerate(per_day):
        x = round(index * slot + 1, 2)
        segments = []
        bottom = plot
        for kind, value in (
            ("succeeded", row["succeeded"]),
            ("failed", row["failed"]),
            ("other", row["jobs"] - row["succeeded"] - row["failed"]),
        ):
            if value <= 0:
                continue
            height = round(value / peak * (plot - 4), 2)
            bottom -= height
            segments.append({"kind": kind, "y": round(bottom, 2), "height": height})
        bars.append(
            {
                "x": x,
                "width": round(width, 2),
                "segments": segments,
                "title": f"{row['day']:%b} {row['day'].day}: {row['jobs']} jobs, "
                f"{row['succeeded']} succeeded, {row['failed']} failed",
                "label": str(row["day"].day) if index % 5 == 0 else "",
                "label_x": round(x + width / 2, 2),
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "baseline": plot,
        "label_y": CHART_HEIGHT - 4,
        "peak": peak if any(row["jobs"] for row in per_day) else 0,
        "bars": bars,
    }
