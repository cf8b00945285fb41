"""A team's usage: its jobs, successes and failures per member, model and day, and a chart."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from jobs.models import Job, Stage
from jobs.quota import day_start
from openjourney.catalog import UnknownEndpoint, get_endpoint
from teams.models import Membership, Team

USAGE_DAYS = 30


def _counts() -> dict:
    return {
        "jobs": Count("id"),
        "succeeded": Count("id", filter=Q(status=Stage.SUCCEEDED)),
        "failed": Count("id", filter=Q(status=Stage.FAILED)),
    }


def team_usage(team: Team, member_id: int | None = None, days: int = USAGE_DAYS) -> dict:
    """Jobs, successes and failures of the last ``days`` days: in all, per member, per model
    and per day; a fixed number of queries whatever the number of jobs or members."""
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
