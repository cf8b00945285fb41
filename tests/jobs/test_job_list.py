"""The jobs list: filtered by status and model; filters it does not know filter nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.models import Job

pytestmark = pytest.mark.django_db
LIST = reverse("jobs:list")


@pytest.fixture
def jobs(owner):
    return {
        slug: Job.objects.create(owner=owner, endpoint=slug, input={"prompt": slug})
        for slug in ("flux/schnell", "sdxl/generative")
    }


def shown(response) -> set[int]:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    return {job.pk for job in Job.objects.all() if f'id="job-{job.pk}"' in html}


def test_a_model_filters_the_list(owner_client, jobs):
    response = owner_client.get(LIST, {"model": "flux/schnell"})
    assert shown(response) == {jobs["flux/schnell"].pk}


@pytest.mark.parametrize("model", ["nope/unknown", "flux/schnell\x00", "\x00"])
def test_an_unknown_or_malformed_model_filters_nothing(owner_client, jobs, model):
    # A NUL byte reached PostgreSQL before, which refused it: a 500 (found by the fuzz).
    assert shown(owner_client.get(LIST, {"model": model})) == {job.pk for job in jobs.values()}
