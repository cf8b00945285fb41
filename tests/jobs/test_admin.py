"""The jobs' admin pages: a superuser lists, filters, searches and reads jobs; nobody edits
or adds one there (the tasks own a job's fields)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.models import Job, Stage
from tests.conftest import html
from tests.factories import JobFactory, TeamFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:jobs_job_changelist")


@pytest.fixture
def jobs(owner):
    team = TeamFactory(name="Harbour crew", created_by=owner)
    return (
        JobFactory(owner=owner, team=team, endpoint="flux/dev", upstream_id="up-lighthouse"),
        JobFactory(owner=owner, endpoint="sdxl/pony", status=Stage.FAILED, error="No credits"),
    )


def test_the_changelist_lists_filters_and_searches(admin_client, jobs):
    done, failed = jobs
    page = html(admin_client.get(CHANGELIST))
    assert reverse("admin:jobs_job_change", args=[done.pk]) in page
    assert reverse("admin:jobs_job_change", args=[failed.pk]) in page
    assert "Harbour crew" in page

    for query in ({"status__exact": Stage.FAILED}, {"q": "credits"}, {"q": "sdxl/pony"}):
        response = admin_client.get(CHANGELIST, query)
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [failed], query
    response = admin_client.get(CHANGELIST, {"q": "up-lighthouse"})
    assert list(response.context["cl"].result_list) == [done]


def test_the_change_page_shows_a_job_and_changes_nothing(admin_client, jobs):
    done, _ = jobs
    url = reverse("admin:jobs_job_change", args=[done.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "up-lighthouse" in html(response)
    assert 'name="status"' not in html(response)  # read, not a form field
    assert admin_client.post(url, {"status": Stage.CANCELLED}).status_code == 403
    done.refresh_from_db()
    assert done.status == Stage.SUCCEEDED


def test_no_job_is_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:jobs_job_add")).status_code == 403
    assert not Job.objects.exists()
