"""Redis away while people submit: each submit answers with its job's card, saying it waits
for the queue (never an error, so nobody submits twice), and the job is sent once Redis
is back.

On real processes: the web server (uvicorn), a Celery worker and the scheduler, on a
redis-server of this module's own, stopped and started again here. The reconciler runs
every 2 s; jobs only look stale after 10 minutes, so what sends the waiting jobs promptly
is their mark (``Job.enqueue_failed_at``), not their age.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from jobs.models import TERMINAL, Job, Stage
from tests.conftest import wait_for
from tests.stack import issue_stack_token, start_stack

pytestmark = pytest.mark.django_db(transaction=True)

WAITING = "Waiting for the queue"
CLOCKS = {"JOBS_RECONCILE_SECONDS": "2", "JOBS_STALE_SECONDS": "600", "OPENJOURNEY_TIMEOUT": "5"}


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, redis_server, tmp_path_factory):
    from django.db import connection

    with django_db_blocker.unblock():
        settings_dict = dict(connection.settings_dict)
    stack = start_stack(
        settings_dict,
        redis_server.url,
        tmp_path_factory.mktemp("stack"),
        scheduler=True,
        extra_env=CLOCKS,
    )
    yield stack
    stack.stop()


@pytest.fixture
def web(stack, owner):
    """An HTTP client on the stack's web server, signed in as the owner, with its CSRF token."""
    issue_stack_token("queue-studio")  # the test database is emptied between tests
    signed_in = Client()
    signed_in.force_login(owner)
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        client.cookies.set("sessionid", signed_in.cookies["sessionid"].value)
        page = client.get(reverse("create:create-endpoint", args=["flux/schnell"]))
        assert page.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        client.headers["X-CSRFToken"] = token
        yield client


HTMX = {"HX-Request": "true"}


def create(web: httpx.Client, prompt: str, *, htmx: bool = True) -> httpx.Response:
    return web.post(
        reverse("create:create-endpoint", args=["flux/schnell"]),
        data={"prompt": prompt, "canvas": "Square", "count": 1},
        headers=HTMX if htmx else {},
    )


def newest_job() -> Job:
    return Job.objects.order_by("-pk").first()


def ended(ids: list[int], timeout: float = 90) -> list[Job]:
    wait_for(
        lambda: Job.objects.filter(pk__in=ids, status__in=TERMINAL).count() == len(ids),
        timeout,
        message="the jobs did not end once Redis was back",
    )
    return list(Job.objects.filter(pk__in=ids))


def test_submits_while_redis_is_down_wait_for_the_queue_and_run_when_it_is_back(
    stack, redis_server, web
):
    from engine.models import EngineJob
    from gallery.models import Image

    # Before: one job the normal way, to retry and re-run while Redis is away.
    assert create(web, "a lighthouse").status_code == 200
    [first] = ended([newest_job().pk], 60)
    assert first.status == Stage.SUCCEEDED, first.error + stack.log_tail()
    image = Image.objects.get(job=first)

    redis_server.stop()
    try:
        before = set(Job.objects.values_list("pk", flat=True))
        answers = {
            "create (htmx)": create(web, "a harbour at night"),
            "create (page)": create(web, "a harbour at dawn", htmx=False),
            "retry": web.post(reverse("jobs:retry", args=[first.pk]), headers=HTMX),
            "re-run": web.post(reverse("create:rerun", args=[image.pk]), headers=HTMX),
            "variations": web.post(
                reverse("create:variations", args=[image.pk]), data={"count": 2}, headers=HTMX
            ),
        }
        waiting = list(Job.objects.exclude(pk__in=before).order_by("pk"))
        # One job per submit (two for the variations): none failed, none doubled.
        assert len(waiting) == 6, [(job.pk, job.input) for job in waiting]
        for what, answer in answers.items():
            if what == "create (page)":
                assert answer.status_code == 302, what
                answer = web.get(answer.headers["Location"])
            assert answer.status_code == 200, f"{what}: {answer.status_code}\n{stack.log_tail()}"
            assert WAITING in answer.text, what
            assert "no need to submit it again" in answer.text, what
        for job in waiting:
            assert job.status == Stage.QUEUED and job.enqueue_failed_at is not None
        # The card, polled meanwhile, still says so.
        card = web.get(reverse("jobs:card", args=[waiting[0].pk]), headers=HTMX)
        assert card.status_code == 200 and WAITING in card.text
        # Each part of the submit that needs Redis said so in the log, and let it through.
        web_log = (stack.workdir / "web.log").read_text()
        assert "the queue is unreachable" in web_log
        assert "Rate limit submit not counted: the cache is unreachable." in web_log
        time.sleep(1)
    finally:
        redis_server.start()

    ids = [job.pk for job in waiting]
    done = ended(ids)
    assert all(job.status == Stage.SUCCEEDED for job in done), [job.error for job in done]
    assert all(job.enqueue_failed_at is None for job in done)
    for job in done:  # each sent once: one engine job per submit key
        assert EngineJob.objects.filter(idempotency_key=str(job.submit_key)).count() == 1
    # And the next submit goes straight to the queue again.
    assert WAITING not in create(web, "a quay").text
    assert newest_job().enqueue_failed_at is None
    [after] = ended([newest_job().pk], 60)
    assert after.status == Stage.SUCCEEDED
