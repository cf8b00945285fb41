"""The team's daily job quota per member: a form error, enforced atomically in create_jobs."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job
from jobs.quota import QuotaExceeded, day_start
from jobs.services import create_jobs
from openjourney.catalog import get_endpoint
from teams.membership import set_quota
from teams.models import Activity, Team
from tests.conftest import html
from tests.factories import JobFactory

FLUX = get_endpoint("flux/dev")
BODY = {"prompt": "a lighthouse", "canvas": "Square"}


def submit(client, team, count: int = 1):
    return client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {**BODY, "count": count, "save_to": team.pk},
    )


@pytest.mark.django_db
def test_owner_sets_and_clears_the_quota(owner_client, team):
    url = reverse("teams:quota", args=[team.pk])
    assert owner_client.post(url, {"daily_job_quota": "5"}).status_code == 302
    team.refresh_from_db()
    assert team.daily_job_quota == 5
    assert owner_client.post(url, {"daily_job_quota": ""}).status_code == 302
    team.refresh_from_db()
    assert team.daily_job_quota is None
    details = list(Activity.objects.filter(team=team).values_list("detail", flat=True))
    assert details == ["removed the daily job quota", "set the daily job quota to 5 per member"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_bad_quota_is_refused(owner_client, team, value):
    response = owner_client.post(reverse("teams:quota", args=[team.pk]), {"daily_job_quota": value})
    assert response.status_code == 422
    team.refresh_from_db()
    assert team.daily_job_quota is None


@pytest.mark.django_db
def test_only_owners_set_the_quota(member_client, viewer_client, outsider_client, team):
    url = reverse("teams:quota", args=[team.pk])
    assert member_client.post(url, {"daily_job_quota": "99"}).status_code == 403
    assert viewer_client.post(url, {"daily_job_quota": "99"}).status_code == 403
    assert outsider_client.post(url, {"daily_job_quota": "99"}).status_code == 404


@pytest.mark.django_db
def test_submit_over_the_quota_is_a_form_error(member_client, member, owner, team, no_submit):
    set_quota(team, owner, 3)
    JobFactory(owner=member, team=team)
    assert submit(member_client, team, count=2).status_code == 302
    assert Job.objects.filter(team=team, owner=member).count() == 3

    response = submit(member_client, team, count=1)
    assert response.status_code == 422
    assert "You have used 3 of your 3 jobs for today in Studio team" in html(response)
    assert Job.objects.filter(team=team, owner=member).count() == 3


@pytest.mark.django_db
def test_a_batch_that_would_pass_the_quota_is_refused_whole(
    member_client, member, owner, team, no_submit
):
    set_quota(team, owner, 3)
    JobFactory(owner=member, team=team)
    response = submit(member_client, team, count=3)
    assert response.status_code == 422
    assert "You have used 1 of your 3 jobs" in html(response)
    assert Job.objects.filter(owner=member).count() == 1


@pytest.mark.django_db
def test_only_today_this_team_and_this_member_count(member, owner, team, no_submit):
    set_quota(team, owner, 2)
    yesterday = JobFactory(owner=member, team=team)
    Job.objects.filter(pk=yesterday.pk).update(created_at=day_start() - timedelta(seconds=1))
    JobFactory(owner=member)  # private
    JobFactory(owner=member, team=Team.objects.create(name="Other"))
    JobFactory(owner=owner, team=team)  # another member's
    assert len(create_jobs(member, FLUX, BODY, count=2, team=team)) == 2
    with pytest.raises(QuotaExceeded):
        create_jobs(member, FLUX, BODY, count=1, team=team)


@pytest.mark.django_db
def test_day_starts_at_midnight_in_the_site_time_zone(settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    start = day_start(timezone.now())
    assert start.tzinfo is not None and str(start.tzinfo) == "Pacific/Auckland"
    assert (start.hour, start.minute, start.second) == (0, 0, 0)
    assert timezone.now() - start < timedelta(days=1)


@pytest.mark.django_db
def test_create_jobs_refuses_past_the_quota_even_after_the_form(member, owner, team, no_submit):
    """The form's check is only a first look: the locked check in create_jobs decides."""
    from create.forms import EndpointForm
    from create.services import submit_form

    set_quota(team, owner, 1)
    form = EndpointForm(FLUX, member, {**BODY, "save_to": team.pk})
    assert form.is_valid()
    JobFactory(owner=member, team=team)  # another tab's submit got there first
    assert submit_form(form) == []
    assert "You have used 1 of your 1 jobs for today in Studio team" in form.errors["save_to"][0]
    assert Job.objects.filter(owner=member).count() == 1


@pytest.mark.django_db
def test_no_quota_no_limit(member, team, no_submit):
    for _ in range(3):
        create_jobs(member, FLUX, BODY, count=8, team=team)
    assert Job.objects.filter(team=team).count() == 24


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_never_pass_the_quota(member, owner, team, no_submit):
    """Eight threads submit at once, each on its own connection: exactly the quota is created."""
    set_quota(team, owner, 3)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait(timeout=10)
            create_jobs(member, FLUX, BODY, count=1, team=team)
            result = "created"
        except QuotaExceeded:
            result = "refused"
        except Exception as error:  # reported below
            result = f"error: {error!r}"
        finally:
            close_old_connections()
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["created"] * 3 + ["refused"] * 5, outcomes
    assert Job.objects.filter(team=team, owner=member).count() == 3
