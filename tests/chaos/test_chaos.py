"""Fast versions of the fault scenarios, on the real stack (subprocesses).

A web server, a studio worker, an engine worker and the scheduler run on the test database
and on a redis-server of this module's own (never the machine's shared one, which is
restarted here). The full report with more jobs per fault is `bench/chaos.py`.
"""

from __future__ import annotations

import httpx
import pytest

from tests.chaos.scenarios import SCENARIOS, Outcome, start_chaos_stack

pytestmark = pytest.mark.django_db(transaction=True)
JOBS = 3


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, redis_server, tmp_path_factory):
    from django.db import connection

    with django_db_blocker.unblock():
        settings_dict = dict(connection.settings_dict)
    stack = start_chaos_stack(settings_dict, redis_server, tmp_path_factory.mktemp("stack"))
    yield stack
    stack.stop()


def run(name: str, stack, redis_server, owner) -> Outcome:
    outcome = SCENARIOS[name](stack, redis_server, owner, JOBS, 60)
    assert outcome.ok, f"{outcome}\n{stack.log_tail()}"
    return outcome


@pytest.mark.parametrize("name", ["kill-submit", "kill-save"])
def test_a_worker_killed_mid_task(name, stack, redis_server, owner):
    run(name, stack, redis_server, owner)


def test_redis_restarted_while_jobs_are_in_flight(stack, redis_server, owner, client):
    run("redis-restart", stack, redis_server, owner)
    # The live-update stream works again on the new Redis: a browser's EventSource,
    # reconnecting by itself (the stream asks for retry: 2000), is answered.
    client.force_login(owner)
    cookies = {"sessionid": client.cookies["sessionid"].value}
    with httpx.stream("GET", f"{stack.url}/jobs/events/", cookies=cookies, timeout=10) as stream:
        assert stream.status_code == 200
        assert next(stream.iter_text()).startswith("retry: 2000")


def test_the_database_away_for_a_few_seconds(stack, redis_server, owner):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("on SQLite the lock outlasts a 20 s busy timeout: bench/chaos.py does it")
    run("database", stack, redis_server, owner)
