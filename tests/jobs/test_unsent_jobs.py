"""Jobs whose submit could not be put on the queue (Redis away): kept, marked, shown as
waiting, and sent by the reconciler's next round. The real outage, on real processes, is
tests/jobs/test_queue_down.py; these are the rules, with the broker's refusal faked."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse
from kombu.exceptions import OperationalError

from jobs import tasks
from jobs.models import Job, Stage

# Committed for real: the submits are sent after the commit (transaction.on_commit).
pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def queue_down(monkeypatch, settings):
    """Every send to the broker is refused, as kombu refuses it with Redis stopped."""
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:9/engine"  # the form's health check: fast
    tries: list[tuple[str, int]] = []

    def refuse(name):
        def delay(*args):
            tries.append((name, *args))
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return delay

    for name in ("submit_job", "cancel_upstream"):
        monkeypatch.setattr(getattr(tasks, name), "delay", refuse(name))
    return tries


def test_a_batch_tries_the_queue_once_and_every_job_waits(owner_client, queue_down, caplog):
    with caplog.at_level(logging.WARNING, logger="jobs.services"):
        response = owner_client.post(
            reverse("create:create-endpoint", args=["flux/schnell"]),
            {"prompt": "a fox", "canvas": "Square", "count": 4},
            headers=HTMX,
        )
    assert response.status_code == 200
    jobs = list(Job.objects.order_by("pk"))
    assert len(jobs) == 4
    assert all(job.status == Stage.QUEUED and job.enqueue_failed_at for job in jobs)
    assert response.content.decode().count("Waiting for the queue") == 4
    assert len(queue_down) == 1  # not four times the broker's retries
    [record] = caplog.records
    assert "the queue is unreachable" in record.getMessage()
    assert all(str(job.pk) in record.getMessage() for job in jobs)


def test_a_waiting_job_is_sent_in_the_reconcilers_next_round(owner, monkeypatch, settings):
    settings.JOBS_STALE_SECONDS = 600
    waiting = Job.objects.create(owner=owner, endpoint="flux/dev", input={"prompt": "a"})
    Job.objects.filter(pk=waiting.pk).update(enqueue_failed_at=waiting.created_at)
    fresh = Job.objects.create(owner=owner, endpoint="flux/dev", input={"prompt": "b"})
    sent: list[int] = []
    monkeypatch.setattr(tasks.submit_job, "delay", sent.append)
    assert tasks.reconcile_jobs()["submit"] == 1
    assert sent == [waiting.pk]  # the fresh one was sent by its own submit
    waiting.refresh_from_db()
    assert waiting.enqueue_failed_at is None and not waiting.waiting_for_queue
    assert tasks.reconcile_jobs()["submit"] == 0  # once
    assert fresh.pk not in sent


def test_the_card_says_it_waits_until_the_job_is_taken_up(owner_client, owner, queue_down):
    owner_client.post(
        reverse("create:create-endpoint", args=["flux/schnell"]),
        {"prompt": "a fox", "canvas": "Square"},
    )
    job = Job.objects.get()
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Waiting for the queue" in page and "no need to submit it again" in page
    Job.objects.filter(pk=job.pk).update(status=Stage.SUBMITTING)
    card = owner_client.get(reverse("jobs:card", args=[job.pk])).content.decode()
    assert "Waiting for the queue" not in card


def test_cancel_while_the_queue_is_away(owner_client, owner, queue_down, caplog):
    job = Job.objects.create(
        owner=owner,
        endpoint="flux/dev",
        input={"prompt": "a"},
        status=Stage.PROCESSING,
        upstream_id="up-1",
    )
    with caplog.at_level(logging.WARNING, logger="jobs.services"):
        response = owner_client.post(reverse("jobs:cancel", args=[job.pk]), headers=HTMX)
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == Stage.CANCELLED
    assert queue_down == [("cancel_upstream", job.pk)]
    assert "not cancelled upstream" in caplog.text
