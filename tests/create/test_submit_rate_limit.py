"""Submits are rate-limited per user: create forms, re-runs, variations and retries share
one count; over it, 429 with Retry-After and a sentence, and no job is made."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.models import Job, Stage
from tests.conftest import client_for
from tests.factories import JobResultFactory, UserFactory

pytestmark = pytest.mark.django_db

CREATE = reverse("create:create-endpoint", args=["flux/dev"])
FORM = {"prompt": "a fox", "canvas": "Square"}
TOO_FAST = "You are submitting too fast"


@pytest.fixture(autouse=True)
def _limits(settings, monkeypatch):
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:9/engine"  # nothing answers: fast "down"
    settings.SUBMIT_RATE_LIMIT = 3
    settings.SUBMIT_RATE_WINDOW = 60


def assert_too_fast(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert TOO_FAST in response.content.decode()


def test_create_form_over_the_limit_is_429_and_makes_nothing(owner):
    client = client_for(owner)
    for _ in range(3):
        assert client.post(CREATE, FORM).status_code == 302
    response = client.post(CREATE, FORM)
    assert_too_fast(response)
    assert 'name="prompt"' in response.content.decode()  # the form, kept as typed
    assert Job.objects.count() == 3
    # Another user has a count of their own.
    assert client_for(UserFactory(username="other")).post(CREATE, FORM).status_code == 302


def test_htmx_submit_over_the_limit_gets_the_form_with_the_reason(owner):
    client = client_for(owner)
    for _ in range(3):
        client.post(CREATE, FORM, headers={"HX-Request": "true"})
    response = client.post(CREATE, FORM, headers={"HX-Request": "true"})
    assert_too_fast(response)
    assert response["HX-Retarget"] == "#endpoint-form"
    assert Job.objects.count() == 3


def test_invalid_forms_do_not_count(owner):
    client = client_for(owner)
    for _ in range(5):
        assert client.post(CREATE, {"prompt": ""}).status_code == 422
    assert client.post(CREATE, FORM).status_code == 302


def test_remakes_and_retries_share_the_count(owner):
    client = client_for(owner)
    image = JobResultFactory(owner=owner)
    failed = Job.objects.create(
        owner=owner, endpoint="flux/dev", input=FORM | {"seed": 1}, seed=1, status=Stage.FAILED
    )
    assert client.post(reverse("create:rerun", args=[image.pk])).status_code == 302
    assert (
        client.post(reverse("create:variations", args=[image.pk]), {"count": 2}).status_code == 302
    )
    assert client.post(reverse("jobs:retry", args=[failed.pk])).status_code == 302
    before = Job.objects.count()
    for response in (
        client.post(reverse("create:rerun", args=[image.pk])),
        client.post(reverse("create:variations", args=[image.pk]), {"count": 2}),
        client.post(reverse("create:rerun", args=[image.pk]), headers={"HX-Request": "true"}),
        client.post(reverse("jobs:retry", args=[failed.pk])),
        client.post(reverse("jobs:retry", args=[failed.pk]), headers={"HX-Request": "true"}),
        client.post(CREATE, FORM),
    ):
        assert_too_fast(response)
    assert Job.objects.count() == before


def test_limit_zero_turns_it_off(owner, settings):
    settings.SUBMIT_RATE_LIMIT = 0
    client = client_for(owner)
    for _ in range(6):
        assert client.post(CREATE, FORM).status_code == 302
