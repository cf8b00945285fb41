"""Two studios on one Redis, as two checkouts on one machine that both find 127.0.0.1:6379:
each installation's tasks run on its own workers only, and its names are its own.

Two real stacks (uvicorn + a Celery worker each, started as the Procfile starts the worker:
no queue named on its command line), each with a data folder of its own, on a redis-server
of this module's own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from tests.stack import BASE_DIR, issue_stack_token, start_stack

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.process]


@pytest.fixture(scope="module")
def two_studios(django_db_setup, django_db_blocker, redis_server, tmp_path_factory):
    from django.db import connection

    with django_db_blocker.unblock():
        settings_dict = dict(connection.settings_dict)
    stacks = []
    try:
        for name in ("a", "b"):
            stacks.append(
                start_stack(
                    settings_dict,
                    redis_server.url,
                    tmp_path_factory.mktemp(f"studio-{name}"),
                    default_queues=True,
                    # "Task … received" lines: which worker ran what.
                    worker_args=["--loglevel", "INFO"],
                )
            )
        yield stacks
    finally:
        for stack in stacks:
            stack.stop()


def tasks_received(stack) -> list[str]:
    log = (stack.workdir / "worker.log").read_text(errors="replace")
    return re.findall(r"Task ([\w.]+)\[[0-9a-f-]+\] received", log)


def test_each_studios_tasks_run_on_its_own_workers_only(two_studios, owner):
    from jobs.models import Job, Stage

    studio_a, studio_b = two_studios
    issue_stack_token()
    ids = [
        Job.objects.create(
            owner=owner, endpoint="flux/schnell", input={"prompt": f"a lighthouse, take {n}"}
        ).pk
        for n in range(4)
    ]
    # Sent as studio A's web server sends them: by A's own settings, whatever they name.
    code = (
        "import sys, django; django.setup(); from jobs.tasks import submit_job\n"
        "for pk in sys.argv[1:]: submit_job.delay(int(pk))"
    )
    subprocess.run(
        [sys.executable, "-c", code, *map(str, ids)],
        cwd=BASE_DIR,
        env=studio_a.env,
        check=True,
        timeout=60,
    )

    deadline = time.monotonic() + 120
    while Job.objects.filter(pk__in=ids).exclude(status=Stage.SUCCEEDED).exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    ran_by_a, ran_by_b = tasks_received(studio_a), tasks_received(studio_b)
    assert ran_by_b == [], f"studio B's worker ran studio A's tasks: {ran_by_b}"
    statuses = list(Job.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == [Stage.SUCCEEDED] * len(ids), studio_a.log_tail()
    assert ran_by_a.count("jobs.tasks.submit_job") == len(ids)
    assert "engine.tasks.run_job" in ran_by_a
    # Named after their data folders, as two checkouts are.
    assert studio_a.queue != studio_b.queue


def settings_for(data_dir, **extra: str) -> dict[str, str]:
    """Names a process of the installation in ``data_dir`` uses on Redis."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"STUDIO_INSTANCE", "CELERY_QUEUE", "FOLLOW_QUEUE", "ENGINE_QUEUE"}
    }
    env.update(STUDIO_DATA_DIR=str(data_dir), DATABASE_URL="", **extra)
    code = (
        "import json, django; django.setup(); from django.conf import settings as s\n"
        "from jobs.events import channel_for; from jobs.tasks import follow_lease_key\n"
        "print(json.dumps({'instance': s.STUDIO_INSTANCE, 'queues': sorted({q.name for q in "
        "s.CELERY_TASK_QUEUES}), 'control': s.CELERY_CONTROL_EXCHANGE, 'events': "
        "s.CELERY_EVENT_EXCHANGE, 'cache': s.CACHES['ratelimit']['KEY_PREFIX'], "
        "'channel': channel_for(1), 'lease': follow_lease_key()}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    import json

    return json.loads(result.stdout)


def test_every_redis_name_differs_between_two_data_folders(tmp_path):
    first = settings_for(tmp_path / "one")
    second = settings_for(tmp_path / "two")
    assert first["instance"] != second["instance"]
    for name, value in first.items():
        assert value != second[name], name
        # Queues, exchanges, cache keys, channels and the follower's lease: all in its namespace.
        assert first["instance"] in str(value), name
    # One folder, one name: every process of one installation agrees.
    assert settings_for(tmp_path / "one") == first


def test_the_instance_name_can_be_set(tmp_path):
    named = settings_for(tmp_path / "one", STUDIO_INSTANCE="gallery-main")
    assert named["instance"] == "gallery-main"
    assert named["queues"] == ["gallery-main", "gallery-main.follow", "gallery-main.utilities"]
    assert named["channel"].startswith("gallery-main:")
    refused = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env={**os.environ, "STUDIO_DATA_DIR": str(tmp_path), "STUDIO_INSTANCE": "a b"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "STUDIO_INSTANCE='a b'" in refused.stderr
