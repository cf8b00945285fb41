"""Fault scenarios on the real stack: processes killed, Redis lost, the database away.

Shared by the fast tests (tests/chaos/test_chaos.py) and the report (bench/chaos.py). Each
scenario submits jobs to a running stack (web + worker + engine worker + scheduler, on a
Redis server of its own), strikes while they are in flight, and measures how they ended.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
from kombu import Queue

from tests.stack import Stack, free_port, start_stack

# The stack's recovery clocks, short so a scenario takes seconds (production: 60 s, 10 s).
CHAOS_ENV = {
    "JOBS_STALE_SECONDS": "2",
    "JOBS_RECONCILE_SECONDS": "2",
    "ENGINE_STALE_JOB_SECONDS": "5",
    "FOLLOW_DEADLINE_SECONDS": "60",
    "OPENJOURNEY_TIMEOUT": "5",
}


class RedisServer:
    """A redis-server of our own on a free loopback port, without persistence: stopping
    it loses everything, as a restarted cache-only Redis does."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)

    def restart(self, down_for: float = 2.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


@dataclass
class Outcome:
    scenario: str
    expected: str
    submitted: int
    terminal: int = 0
    as_expected: int = 0
    lost: int = 0
    duplicated: int = 0
    half_saved: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.terminal == self.submitted == self.as_expected
            and not self.lost
            and not self.duplicated
            and not self.half_saved
        )


def start_chaos_stack(settings_dict: dict, redis_server: RedisServer, workdir: Path) -> Stack:
    return start_stack(
        settings_dict,
        redis_server.url,
        workdir,
        engine_worker=True,  # the engine is a service apart: its workers are not killed
        scheduler=True,
        extra_env=CHAOS_ENV,
    )


def submit(stack: Stack, redis_url: str, owner, count: int) -> list[int]:
    """Create ``count`` jobs and send their submits to the stack's queue."""
    from celery import Celery

    from jobs.models import Job
    from tests.stack import issue_stack_token

    issue_stack_token("chaos-studio")  # the test database is emptied between tests
    ids = [
        Job.objects.create(
            owner=owner, endpoint="flux/schnell", input={"prompt": f"a lighthouse, take {i}"}
        ).pk
        for i in range(count)
    ]
    client = Celery("chaos", broker=redis_url)
    client.conf.update(
        task_serializer="json",
        task_default_queue=stack.queue,
        task_queues=[Queue(stack.queue, routing_key=stack.queue)],
        broker_connection_retry_on_startup=True,
    )
    with client.connection_for_write() as connection:
        for pk in ids:
            client.send_task(
                "jobs.tasks.submit_job", args=[pk], queue=stack.queue, connection=connection
            )
    client.close()
    return ids


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


def any_in(ids: list[int], *stages: str) -> bool:
    from jobs.models import Job

    return Job.objects.filter(pk__in=ids, status__in=stages).exists()


def stored_files(media_root: Path) -> set[str]:
    """The studio's files (the engine's own outputs, under engine/, left out)."""
    root = Path(media_root)
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.relative_to(root).parts[0] != "engine"
    }


def measure(
    name: str,
    expected: str,
    ids: list[int],
    media_root: Path,
    started: float,
    timeout: float,
    before: set[str],
) -> Outcome:
    """Wait (up to ``timeout``) for the jobs to end; count what ended, was lost, doubled."""
    from engine.models import EngineJob
    from gallery.models import Image
    from jobs.models import TERMINAL, Job

    with contextlib.suppress(TimeoutError):
        wait_until(
            lambda: Job.objects.filter(pk__in=ids, status__in=TERMINAL).count() == len(ids),
            timeout,
            f"{name}: jobs ended",
        )
    outcome = Outcome(name, expected, len(ids), seconds=time.monotonic() - started)
    jobs = list(Job.objects.filter(pk__in=ids))
    outcome.terminal = sum(job.status in TERMINAL for job in jobs)
    outcome.as_expected = sum(job.status == expected for job in jobs)
    outcome.lost = len(ids) - outcome.terminal
    outcome.errors = sorted({job.error for job in jobs if job.error})
    for job in jobs:
        upstream = EngineJob.objects.filter(idempotency_key=str(job.submit_key)).count()
        outcome.duplicated += max(0, upstream - 1)
    # Half-saved: a stored file without its row, or a row without its file.
    # Files of this scenario only (earlier ones' stay in the stack's media folder).
    files = stored_files(media_root) - before
    referenced: set[str] = set()
    for image in Image.objects.filter(job__in=ids):
        names = [n for n in (image.file.name, image.thumbnail.name) if n]
        outcome.half_saved += sum(name not in files for name in names)
        referenced.update(names)
    outcome.half_saved += len(files - referenced)
    return outcome


# --- scenarios ---------------------------------------------------------------------------
# Each takes (stack, redis server, owner, count, strike) and returns an Outcome.


def _fault(**fields):
    from engine.models import Fault

    return Fault.objects.create(**fields)


def _clear_faults() -> None:
    from engine.models import Fault

    Fault.objects.all().delete()


def kill_worker_during(stage: str, fault: dict) -> Callable:
    """SIGKILL the studio's worker while jobs are in ``stage``, slowed there by ``fault``."""
    from jobs.models import FOLLOWED, Stage

    stages = {"submitting": (Stage.SUBMITTING,), "following": FOLLOWED, "saving": (Stage.SAVING,)}

    def scenario(stack: Stack, server: RedisServer, owner, count: int, timeout: float) -> Outcome:
        _fault(**fault)
        started, before = time.monotonic(), stored_files(stack.media_root)
        ids = submit(stack, server.url, owner, count)
        wait_until(lambda: any_in(ids, *stages[stage]), 60, f"a job {stage}")
        time.sleep(0.3)  # inside the slowed call
        stack.kill("worker")
        _clear_faults()
        stack.start("worker")
        name = f"worker SIGKILL while {stage}"
        return measure(name, "succeeded", ids, stack.media_root, started, timeout, before)

    return scenario


def redis_lost(how: str) -> Callable:
    """Restart (everything lost) or flush the stack's Redis while jobs are in flight."""
    from jobs.models import FOLLOWED, Stage

    def scenario(stack: Stack, server: RedisServer, owner, count: int, timeout: float) -> Outcome:
        _fault(kind="slow", path="job", method="GET", delay_ms=300)
        started, before = time.monotonic(), stored_files(stack.media_root)
        ids = submit(stack, server.url, owner, count)
        wait_until(lambda: any_in(ids, *FOLLOWED, Stage.SAVING), 60, "jobs in flight")
        if how == "restart":
            server.restart()
        else:
            redis.Redis.from_url(server.url).flushall()
        _clear_faults()
        name = f"Redis {how}ed"
        return measure(name, "succeeded", ids, stack.media_root, started, timeout, before)

    return scenario


def database_away(down_for: float = 4.0) -> Callable:
    """The database refuses every connection for a few seconds while jobs are in flight.

    PostgreSQL: new connections to the database are disallowed (ALLOW_CONNECTIONS false)
    and every other backend on it is terminated (pg_terminate_backend), then allowed again.
    SQLite: an exclusive lock is held past the busy timeout, so statements fail "locked".
    """
    from jobs.models import FOLLOWED, Stage

    def scenario(stack: Stack, server: RedisServer, owner, count: int, timeout: float) -> Outcome:
        from django.db import connection

        started, before = time.monotonic(), stored_files(stack.media_root)
        ids = submit(stack, server.url, owner, count)
        wait_until(lambda: any_in(ids, Stage.SUBMITTING, *FOLLOWED, Stage.SAVING), 60, "flight")
        if connection.vendor == "postgresql":
            import psycopg

            params = connection.settings_dict
            name = connection.ops.quote_name(params["NAME"])
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                own_pid = cursor.fetchone()[0]
            # A database cannot refuse connections while one is connected to it: from another.
            admin = psycopg.connect(
                host=params.get("HOST") or "127.0.0.1",
                port=params.get("PORT") or 5432,
                user=params.get("USER") or None,
                password=params.get("PASSWORD") or None,
                dbname="postgres",
                autocommit=True,
            )
            try:
                admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> %s",
                    (params["NAME"], own_pid),
                )
                time.sleep(down_for)
            finally:
                admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
                admin.close()
        else:
            import sqlite3

            lock = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")
            time.sleep(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5) + down_for)
            lock.execute("COMMIT")
            lock.close()
        name = "database unavailable"
        return measure(name, "succeeded", ids, stack.media_root, started, timeout, before)

    return scenario


def upstream_fault(name: str, expected: str, **fault) -> Callable:
    """The engine misbehaving on purpose (its fault switches) for the whole run."""

    def scenario(stack: Stack, server: RedisServer, owner, count: int, timeout: float) -> Outcome:
        _fault(**fault)
        started, before = time.monotonic(), stored_files(stack.media_root)
        ids = submit(stack, server.url, owner, count)
        outcome = measure(name, expected, ids, stack.media_root, started, timeout, before)
        _clear_faults()
        return outcome

    return scenario


SCENARIOS: dict[str, Callable] = {
    "upstream-429": upstream_fault(
        "429 + Retry-After on submit", "succeeded",
        kind="rate_limit", path="flux/schnell", retry_after=1, remaining=30,
    ),
    "upstream-500": upstream_fault(
        "500 on submit", "succeeded", kind="server_error", path="flux/schnell",
        status_code=500, remaining=10,
    ),
    "upstream-502-poll": upstream_fault(
        "502 on polls", "succeeded", kind="server_error", path="job", method="GET",
        status_code=502, remaining=20,
    ),
    "upstream-503": upstream_fault(
        "503 on submit", "succeeded", kind="server_error", path="flux/schnell",
        status_code=503, remaining=10,
    ),
    "upstream-timeout": upstream_fault(
        "submit time-out (reached the API)", "succeeded", kind="slow", path="flux/schnell",
        delay_ms=6000, remaining=5,
    ),
    "upstream-malformed": upstream_fault(
        "malformed JSON on submit", "succeeded", kind="malformed_json", path="flux/schnell",
        remaining=10,
    ),
    "upstream-vanishes": upstream_fault(
        "job id later 404s", "failed", kind="job_vanishes", path="flux/schnell"
    ),
    "upstream-output-error": upstream_fault(
        "output URL 503 (5 times)", "succeeded", kind="output_error", path="files", remaining=5
    ),
    "upstream-not-image": upstream_fault(
        "output URL not an image", "failed", kind="output_not_image", path="files"
    ),
    "kill-submit": kill_worker_during(
        "submitting", {"kind": "slow", "path": "flux/schnell", "delay_ms": 2000}
    ),
    "kill-follow": kill_worker_during(
        "following", {"kind": "slow", "path": "job", "method": "GET", "delay_ms": 1500}
    ),
    "kill-save": kill_worker_during("saving", {"kind": "slow", "path": "files", "delay_ms": 2000}),
    "redis-restart": redis_lost("restart"),
    "redis-flush": redis_lost("flush"),
    "database": database_away(),
}  # fmt: skip


def table(outcomes: list[Outcome]) -> str:
    rows = [
        "| fault | submitted | terminal | as expected | lost | duplicated | half-saved | time |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for o in outcomes:
        rows.append(
            f"| {o.scenario} | {o.submitted} | {o.terminal} | {o.as_expected} ({o.expected}) "
            f"| {o.lost} | {o.duplicated} | {o.half_saved} | {o.seconds:.1f} s |"
        )
    return "\n".join(rows)
