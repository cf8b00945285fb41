"""A team's daily job quota, per member: counted in jobs, so it lives with them.

``claim_team_jobs`` runs inside the transaction that creates a team's jobs; the forms check
early with ``check_quota``. Refusals are ``TeamSubmitRefused``, a team rule (its ``str()`` a
sentence for people).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from jobs.models import Job
from teams.membership import TeamRuleError
from teams.models import CAN_EDIT, Membership, Team


class TeamSubmitRefused(TeamRuleError):
    """A submit into a team that may not happen (not an editor, or over the daily quota)."""


class QuotaExceeded(TeamSubmitRefused):
    """The member has used their daily jobs in this team."""


def day_start(now: datetime | None = None) -> datetime:
    """Midnight today in the site's time zone (settings.TIME_ZONE)."""
    local = (now or timezone.now()).astimezone(ZoneInfo(settings.TIME_ZONE))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def jobs_today(team: Team, user) -> int:
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
