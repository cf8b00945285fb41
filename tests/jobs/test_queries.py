"""The jobs list and the create form's answer cost the same queries whatever their length."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gallery.models import Image
from jobs.models import Job
from tests.factories import ImageFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db


def cards(html: str) -> int:
    return html.count('class="job-card')


def add_jobs(owner, count: int) -> None:
    """Jobs of every kind a card shows: queued, failed, succeeded with their image."""
    for number in range(count):
        status = ("queued", "failed", "succeeded")[number % 3]
        job = Job.objects.create(
            owner=owner, endpoint="flux/dev", input={"prompt": f"p {number}"}, status=status
        )
        if status == "succeeded":
            image = ImageFactory(owner=owner)
            Image.objects.filter(pk=image.pk).update(job=job)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_jobs_list_costs_the_same_at_any_length(
    owner_client, owner, htmx, django_assert_num_queries
):
    add_jobs(owner, 2)
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    assert_constant_queries(
        django_assert_num_queries,
        owner_client,
        "/jobs/",
        lambda: add_jobs(owner, 20),
        cards,
        **extra,
    )


def test_the_cards_of_a_new_submit_ask_nothing_of_the_gallery(owner_client, monkeypatch):
    """A new job has no image yet: its card is rendered without looking for one."""
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.post(
            "/create/flux/schnell",
            {"prompt": "a lighthouse", "count": "4", "canvas": "Square"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert cards(response.content.decode()) == 4
    assert not [q for q in queries.captured_queries if "gallery_image" in q["sql"]]
