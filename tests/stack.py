"""The real stack as subprocesses (uvicorn web server + Celery worker) on the test database.

Browser tests and benchmarks use it: the page talks to a real ASGI server (server-sent
events included) and jobs run in a separate worker process, as under `make run`. The engine
is served by that same server, or with ``engine_apart`` by a uvicorn of its own serving only
the engine (``engine.asgi``), as `make run` starts it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BASE_DIR = Path(__file__).resolve().parents[1]
STACK_TOKEN = "oje_test-stack-token-0123456789abcdefghijklmnop"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to now (the test database)."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def issue_stack_token(username: str = "studio", **fields) -> None:
    """The engine token the stack's studio calls with (``STACK_TOKEN``), for ``username``;
    ``fields`` set the token's own limits (``max_active_jobs``). Needs Django set up."""
    from django.contrib.auth import get_user_model

    from engine.models import ApiToken, hash_token

    if ApiToken.objects.filter(key_hash=hash_token(STACK_TOKEN)).exists():
        return
    user, _ = get_user_model().objects.get_or_create(username=username)
    ApiToken.objects.create(
        user=user, key_hash=hash_token(STACK_TOKEN), prefix=STACK_TOKEN[:8], **fields
    )


@dataclass
class Stack:
    url: str
    media_root: Path
    queue: str
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    # How each process was started (name -> command), to start one again after a kill.
    commands: dict[str, list[str]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    workdir: Path | None = None
    # The engine's API root (OPENJOURNEY_API_URL): on the web server, or its own server's.
    engine_url: str = ""

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(
            f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in self.logs
            if log.exists()
        )

    def process(self, name: str) -> subprocess.Popen:
        return self.processes[len(self.names) - 1 - self.names[::-1].index(name)]

    def kill(self, name: str = "worker") -> None:
        """SIGKILL a process and its children (a prefork worker's pool), as a crash would."""
        process = self.process(name)
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=15)

    def start(self, name: str = "worker") -> subprocess.Popen:
        """Start a process of the stack (again), e.g. a new worker after a kill."""
        assert self.workdir is not None
        count = self.names.count(name)
        log = self.workdir / (f"{name}.log" if not count else f"{name}-{count + 1}.log")
        env = self.env
        if name in ("web", "engine"):
            # As the Procfile starts the web servers: a pool of connections on PostgreSQL.
            env = {"DATABASE_POOL": "1", **env}
        process = subprocess.Popen(
            self.commands[name],
            cwd=BASE_DIR,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: a kill reaches its children
        )
        self.names.append(name)
        self.processes.append(process)
        self.logs.append(log)
        return process


def _test_process_key() -> str:
    from django.conf import settings

    return settings.SECRET_KEY


def settings_in(env: dict[str, str], name: str) -> str:
    """A setting as a process started with ``env`` sees it."""
    code = (
        f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def start_stack(
    settings_dict: dict,
    redis_url: str,
    workdir: Path,
    *,
    worker_concurrency: int = 2,
    extra_env: dict[str, str] | None = None,
    worker_args: list[str] | None = None,
    queue: str | None = None,
    engine_worker: bool = False,
    scheduler: bool = False,
    engine_apart: bool = False,
    utility_worker: bool = False,
    default_queues: bool = False,
) -> Stack:
    """Start web and worker on ``settings_dict``'s database; wait until the web answers.

    ``engine_apart``: the engine's own ASGI app (``engine.asgi``) in a uvicorn of its own
    (process "engine"), the studio's OPENJOURNEY_API_URL pointed at it, as `make run` starts
    it; else the web server serves it.
    ``utility_worker``: the engine's utility jobs on a worker of their own (process
    "utilities"), as `make run` runs them; else the engine's worker takes them too.
    ``default_queues``: no queue of the stack's own; the settings name them (from the data
    folder, ``workdir``) and the worker consumes them all, as the Procfile starts it.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    engine_port = free_port() if engine_apart else port
    engine_url = f"http://127.0.0.1:{engine_port}/engine"
    media_root = workdir / "media"
    media_root.mkdir(parents=True, exist_ok=True)
    queue = queue or f"stack-{uuid.uuid4().hex[:10]}"
    engine_queue = f"{queue}.engine" if engine_worker else queue
    utility_queue = f"{engine_queue}.utilities"
    # Settings that would give the stack another installation's names.
    inherited_names = {
        "STUDIO_INSTANCE", "CELERY_QUEUE", "FOLLOW_QUEUE", "ENGINE_QUEUE", "ENGINE_UTILITY_QUEUE"
    }  # fmt: skip
    drop = {"DJANGO_ALLOW_ASYNC_UNSAFE", *(inherited_names if default_queues else ())}
    env = {
        **{k: v for k, v in os.environ.items() if k not in drop},
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DEBUG": "1",
        "STUDIO_DATA_DIR": str(workdir),
        "DATABASE_URL": database_url(settings_dict),
        "MEDIA_ROOT": str(media_root),
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": queue,
        "FOLLOW_QUEUE": f"{queue}.follow",
        "ENGINE_QUEUE": engine_queue,
        "ENGINE_UTILITY_QUEUE": utility_queue,
        "OPENJOURNEY_API_URL": engine_url,
        "OPENJOURNEY_API_TOKEN": STACK_TOKEN,
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        # The test process's key: sessions it makes (force_login) and what it signs or
        # encrypts hold on the stack too, as within one installation.
        "SECRET_KEY": _test_process_key(),
        **(extra_env or {}),
    }
    bin_dir = Path(sys.executable).parent
    # The worker that runs the engine's jobs takes its utility jobs too, unless they have one.
    worker_queues = [queue, f"{queue}.follow"]
    engine_worker_queues = [f"{queue}.engine"]
    if not utility_worker:
        (engine_worker_queues if engine_worker else worker_queues).append(utility_queue)
    worker_queue_args = ["-Q", ",".join(worker_queues), "--hostname", f"{queue}@%h"]
    if default_queues:
        for name in ("CELERY_QUEUE", "FOLLOW_QUEUE", "ENGINE_QUEUE", "ENGINE_UTILITY_QUEUE"):
            env.pop(name)
        queue = settings_in(env, "CELERY_TASK_DEFAULT_QUEUE")
        worker_queue_args = ["--hostname", f"worker-{uuid.uuid4().hex[:6]}@%h"]
    commands = {
        "web": [
            sys.executable, "-m", "uvicorn", "studio.asgi:application",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
        ],
        "worker": [
            str(bin_dir / "celery"), "-A", "studio", "worker", "--loglevel", "WARNING",
            "--concurrency", str(worker_concurrency), *worker_queue_args,
            "--without-mingle", "--without-gossip",
            *(worker_args or []),
        ],
    }  # fmt: skip
    if engine_apart:
        commands["engine"] = [
            sys.executable, "-m", "uvicorn", "engine.asgi:application",
            "--host", "127.0.0.1", "--port", str(engine_port), "--no-access-log",
        ]  # fmt: skip
    if engine_worker:
        # The engine as a separate service would run: workers of its own.
        commands["engine-worker"] = [
            str(bin_dir / "celery"), "-A", "studio", "worker", "--loglevel", "WARNING",
            "--concurrency", "2", "-Q", ",".join(engine_worker_queues),
            "--hostname", f"{queue}-engine@%h", "--without-mingle", "--without-gossip",
        ]  # fmt: skip
    if utility_worker:
        # As the Procfile's "utilities": the engine's utility jobs, and nothing else.
        commands["utilities"] = [
            str(bin_dir / "celery"), "-A", "studio", "worker", "--loglevel", "WARNING",
            "--concurrency", "2", "-Q", utility_queue,
            "--hostname", f"{queue}-utilities@%h", "--without-mingle", "--without-gossip",
        ]  # fmt: skip
    if scheduler:
        # Celery beat: the reconciler, the follower's kick and the engine's stale requeue.
        commands["scheduler"] = [
            str(bin_dir / "celery"), "-A", "studio", "beat", "--loglevel", "WARNING",
            "--schedule", str(workdir / f"celerybeat-schedule-{queue}"),
        ]  # fmt: skip
    stack = Stack(
        url=url,
        media_root=media_root,
        queue=queue,
        commands=commands,
        env=env,
        workdir=workdir,
        engine_url=engine_url,
    )
    for name in commands:
        stack.start(name)
    # The web server (its own ping of the engine it also serves) and the engine's server.
    pings = list(
        dict.fromkeys([f"{url}/engine/v1/internal/ping", f"{engine_url}/v1/internal/ping"])
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in stack.processes):
            stack.stop()
            raise RuntimeError("the stack exited early:\n" + stack.log_tail())
        try:
            while pings:
                httpx.get(pings[0], timeout=1)
                pings.pop(0)
            return stack
        except httpx.HTTPError:
            time.sleep(0.2)
    stack.stop()
    raise RuntimeError("the stack did not answer within 60 s:\n" + stack.log_tail())
