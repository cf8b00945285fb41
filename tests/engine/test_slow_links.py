"""Slow image links do not delay generation: on the real processes, as `make run` runs them.

Two utility jobs whose links send a byte every half second hold the utilities' worker
(both its processes) until their deadline; a generation submitted meanwhile is done while
they still wait, and then they end with a sentence. The figures are in bench/slow_links.py.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import wait_for
from tests.engine.conftest import wait_for_job
from tests.slow_http import SlowServer
from tests.stack import STACK_TOKEN, issue_stack_token, start_stack

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.process]
DEADLINE = 8


@pytest.fixture
def slow():
    with SlowServer(interval=0.5, max_seconds=30) as server:
        yield server


@pytest.fixture
def stack(slow, redis_url, tmp_path):
    from django.db import connection

    stack = start_stack(
        dict(connection.settings_dict),
        redis_url,
        tmp_path,
        utility_worker=True,
        extra_env={
            "ENGINE_FETCH_TIMEOUT": str(DEADLINE),
            "ENGINE_FETCH_ALLOWED_ORIGINS": slow.origin,
        },
    )
    yield stack
    stack.stop()


def test_two_slow_links_do_not_delay_a_generation(stack, slow):
    issue_stack_token()
    headers = {"Authorization": f"Bearer {STACK_TOKEN}"}
    with httpx.Client(base_url=stack.engine_url, headers=headers, timeout=10) as api:
        slow_ids = [
            submit(api, "utils/prompt-extract", {"image": slow.url("body", f"{n}.png")})
            for n in range(2)
        ]
        wait_for(lambda: len(slow.hits) == 2, message="the slow links were not fetched")

        generation = wait_for_job(api, submit(api, "flux/schnell", {"prompt": "a fox"}), 30)

        assert generation["status"] == "succeeded", stack.log_tail()
        assert [api.get(f"/v1/job/{i}").json()["status"] for i in slow_ids] == [
            "processing",
            "processing",
        ]  # still downloading: the generation did not wait for them
        for job_id, n in zip(slow_ids, range(2), strict=True):
            job = wait_for_job(api, job_id, DEADLINE + 20)
            assert (job["status"], job["error"]) == (
                "failed",
                f"The image at 127.0.0.1/body/{n}.png took longer than {DEADLINE} s to download.",
            )


def submit(api: httpx.Client, slug: str, body: dict) -> str:
    response = api.post(f"/v1/{slug}", json=body)
    assert response.status_code == 200, response.text
    return response.json()["id"]
