"""/teams/<pk>/usage: jobs, successes, failures per member, model and day, with a chart."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job, Stage
from jobs.usage import team_usage
from teams.models import Role, Team
from tests.conftest import html
from tests.factories import JobFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def back_date(job: Job, days: float) -> None:
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def jobs(owner, member, team):
    JobFactory(owner=owner, team=team, endpoint="flux/dev", status=Stage.SUCCEEDED)
    JobFactory(owner=owner, team=team, endpoint="flux/dev", status=Stage.FAILED)
    JobFactory(owner=member, team=team, endpoint="sd/3.5/large", status=Stage.SUCCEEDED)
    JobFactory(owner=member, team=team, endpoint="sd/3.5/large", status=Stage.PROCESSING)
    back_date(JobFactory(owner=member, team=team, status=Stage.SUCCEEDED), 3)
    back_date(JobFactory(owner=member, team=team, status=Stage.SUCCEEDED), 45)  # too old
    JobFactory(owner=owner, status=Stage.SUCCEEDED)  # private
    other = Team.objects.create(name="Other")
    JobFactory(owner=owner, team=other, status=Stage.FAILED)


def test_totals_per_member_per_model_per_day(team, jobs, owner, member, viewer):
    usage = team_usage(team)
    assert usage["totals"] == {"jobs": 5, "succeeded": 3, "failed": 1}
    members = {row["username"]: row for row in usage["members"]}
    assert (
        members["owner"]["jobs"],
        members["owner"]["succeeded"],
        members["owner"]["failed"],
    ) == (2, 1, 1)
    assert (
        members["member"]["jobs"],
        members["member"]["succeeded"],
        members["member"]["failed"],
    ) == (3, 2, 0)
    assert members["viewer"]["jobs"] == 0  # every member is listed
    models = {row["endpoint"]: row for row in usage["models"]}
    assert models["flux/dev"]["jobs"] == 3 and models["flux/dev"]["title"] == "FLUX Dev"
    assert models["sd/3.5/large"]["jobs"] == 2
    assert len(usage["per_day"]) == 30
    assert usage["per_day"][-1]["jobs"] == 4 and usage["per_day"][-4]["jobs"] == 1
    assert sum(day["jobs"] for day in usage["per_day"]) == 5


def test_per_member_view(owner_client, team, jobs, member):
    response = owner_client.get(reverse("usage:team", args=[team.pk]), {"member": member.pk})
    assert response.status_code == 200
    usage = response.context["usage"]
    assert usage["totals"]["jobs"] == 3
    assert [row["username"] for row in usage["members"]] == ["member"]
    assert "Usage of Studio team: member" in html(response)


def test_unknown_member_shows_the_whole_team(owner_client, team, jobs, outsider):
    response = owner_client.get(reverse("usage:team", args=[team.pk]), {"member": outsider.pk})
    assert response.context["usage"]["totals"]["jobs"] == 5


def test_former_members_still_count(owner, team, member, jobs):
    from teams.membership import remove_member

    remove_member(team, owner, member.pk)
    members = {row["username"]: row for row in team_usage(team)["members"]}
    assert members["member"]["role"] == "Former member" and members["member"]["jobs"] == 3


def test_page_has_an_inline_svg_chart_and_no_script(viewer_client, team, jobs):
    response = viewer_client.get(reverse("usage:team", args=[team.pk]))
    assert response.status_code == 200
    page = html(response)
    svg = re.search(r"<svg class=\"usage-chart\".*?</svg>", page, re.S).group(0)
    assert svg.count("<g>") == 30
    assert 'class="chart-succeeded"' in svg and 'class="chart-failed"' in svg
    assert "<script" not in page.split("</head>")[1]
    assert "FLUX Dev" in page


def test_empty_usage(owner_client, team):
    page = html(owner_client.get(reverse("usage:team", args=[team.pk])))
    assert "No jobs in the last 30 days." in page and '<svg class="usage-chart"' not in page


def test_constant_number_of_queries(owner_client, owner, team):
    url = reverse("usage:team", args=[team.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(url).status_code == 200
        return len(queries)

    JobFactory(owner=owner, team=team)
    few = count()
    for n in range(6):
        user = UserFactory(username=f"busy{n}")
        MembershipFactory(team=team, user=user, role=Role.EDITOR)
        for endpoint in ("flux/dev", "sd/3.5/large", "utils/upscale"):
            back_date(JobFactory(owner=user, team=team, endpoint=endpoint, status=Stage.FAILED), n)
    assert count() == few


def test_outsider_gets_404(outsider_client, team):
    assert outsider_client.get(reverse("usage:team", args=[team.pk])).status_code == 404
