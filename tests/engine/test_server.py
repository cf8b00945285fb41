"""The engine's own server (``engine.asgi``): the engine's paths, nothing of the studio's.

A real uvicorn on the test database, as `make run` and compose start it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest
import redis
from django.db import connection

from engine.models import ApiToken, EngineJob, Status
from tests.factories import UserFactory
from tests.stack import BASE_DIR, database_url, free_port

# Real processes (servers, workers, make run): the process tier.
pytestmark = pytest.mark.process


@dataclass
class EngineServer:
    url: str
    queue: str  # the engine's Celery queue (ENGINE_QUEUE), which no worker reads here


@pytest.fixture
def engine_server(transactional_db, redis_url, tmp_path):
    """``uvicorn engine.asgi:application`` on the test database."""
    port = free_port()
    queue = f"engine-server-{uuid.uuid4().hex[:10]}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        # As `make run` and the tests' stack leave it for their processes: the app must use
        # the engine's settings all the same.
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DEBUG": "1",
        "STUDIO_DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url(connection.settings_dict),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "REDIS_URL": redis_url,
        # The submitted job waits on a queue no worker reads; removed at the end.
        "CELERY_QUEUE": queue,
        "ENGINE_QUEUE": queue,
    }
    log = tmp_path / "engine.log"
    command = [
        sys.executable, "-m", "uvicorn", "engine.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
    ]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                httpx.get(f"{url}/engine/v1/internal/ping", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield EngineServer(url, queue)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        redis.Redis.from_url(redis_url).delete(queue)


def test_the_engines_server_answers_the_engines_paths(engine_server, redis_url):
    url = engine_server.url
    _, raw = ApiToken.issue(UserFactory(username="engine-caller"), "server test")
    auth = {"Authorization": f"Bearer {raw}"}

    ping = httpx.get(f"{url}/engine/v1/internal/ping")
    assert ping.status_code == 200 and ping.json()["status"] == "ok"
    # None of the studio's middleware ran: no session cookie, no page policy.
    assert "set-cookie" not in ping.headers
    assert "content-security-policy" not in ping.headers

    submitted = httpx.post(
        f"{url}/engine/v1/flux/dev",
        json={"prompt": "a lighthouse", "canvas": "Square"},
        headers=auth,
    )
    assert submitted.status_code == 200, submitted.text
    job = submitted.json()
    assert job["status"] == Status.STARTING
    assert job["urls"]["get"] == f"{url}/engine/v1/job/{job['id']}"
    assert EngineJob.objects.get(pk=job["id"]).input["prompt"] == "a lighthouse"
    # Its task went to the engine's queue, as the shared settings route it.
    message = json.loads(redis.Redis.from_url(redis_url).lindex(engine_server.queue, 0))
    assert message["headers"]["task"] == "engine.tasks.run_job"
    assert job["id"] in message["headers"]["argsrepr"]
    polled = httpx.get(job["urls"]["get"], headers=auth)
    assert polled.status_code == 200 and polled.json()["id"] == job["id"]
    assert httpx.post(f"{url}/engine/v1/flux/dev", json={}).status_code == 401


def test_the_engines_server_has_nothing_of_the_studios(engine_server):
    url = engine_server.url
    for path in ("/gallery/", "/accounts/login/", "/admin/", "/", "/health/", "/media/signed/x"):
        response = httpx.get(f"{url}{path}")
        assert response.status_code == 404, path
        assert response.json() == {"detail": f"No endpoint at {path}."}
