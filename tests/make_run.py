"""`make run` for real, as a person runs it: the launcher in a session of its own on a
fresh data folder (its own SQLite database), driven over HTTP and through /proc.

Used by tests/studio/test_make_run_supervision.py and bench/make_run_kill.py.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BASE_DIR = Path(__file__).resolve().parents[1]
# Settings of the machine's environment that would make this run another than a default
# install's (the tests' own queue, a key, debug, an API elsewhere).
NOT_INHERITED = (
    "DJANGO_ALLOW_ASYNC_UNSAFE", "OPENJOURNEY_API_URL", "OPENJOURNEY_API_TOKEN",
    "OPENJOURNEY_API_TOKEN_FILE", "PUBLIC_BASE_URL", "DEBUG", "SECRET_KEY", "SECRET_KEY_FILE",
    "SECURE_SSL_REDIRECT", "SECURE_COOKIES", "STUDIO_INSTANCE", "CELERY_QUEUE",
    "FOLLOW_QUEUE", "ENGINE_QUEUE", "MEDIA_ROOT", "DATABASE_URL",
)  # fmt: skip
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux's /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def argv_of(pid: int) -> list[str]:
    try:
        return [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return []


@dataclass
class LaunchedStudio:
    """One `make run` (``python -m studio.launcher``) on ``data_dir``."""

    data_dir: Path
    redis_url: str
    port: int = field(default_factory=free_port)
    engine_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    started: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "launcher.log"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 10) -> str:
        """The launcher's output once it holds ``text`` (it prints each log a moment after
        the process writes it)."""
        deadline = time.monotonic() + timeout
        while text not in (output := self.output()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in make run's output:\n{output[-4000:]}")
            time.sleep(0.2)
        return output

    def start(self, timeout: float = 240) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        env.update(
            PORT=str(self.port),
            ENGINE_PORT=str(self.engine_port),
            STUDIO_DATA_DIR=str(self.data_dir),
            REDIS_URL=self.redis_url,
            PYTHONUNBUFFERED="1",
        )
        with self.log_path.open("w") as log:
            # A session of its own, so that SIGINT reaches the whole group as a terminal's
            # Ctrl-C does.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "studio.launcher"],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while "Press Ctrl-C to stop everything." not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("make run did not start:\n" + self.output()[-4000:])
            time.sleep(0.5)
        self.started = descendants(self.process.pid)

    def processes(self) -> dict[int, list[str]]:
        """The launcher's processes now, by pid, with their command lines."""
        assert self.process is not None
        return {pid: argv_of(pid) for pid in descendants(self.process.pid)}

    def worker_pid(self, hostname: str = "worker@") -> int | None:
        """The Celery worker's main process: the one supervisord started (its pool's
        processes are its children, and outlive it for a moment when it is killed).
        ``hostname`` tells the Procfile's "worker" from its "utilities" worker."""
        processes = self.processes()
        for pid, argv in processes.items():
            if (
                "worker" in argv
                and any(a.endswith("celery") for a in argv[:2])
                and any(a.startswith(hostname) for a in argv)
            ):
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text()
                except OSError:
                    continue
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                if any("supervisor.supervisord" in a for a in processes.get(parent, [])):
                    return pid
        return None

    def database(self) -> sqlite3.Connection:
        return sqlite3.connect(self.data_dir / "studio.sqlite3", timeout=20)

    def stop(self) -> tuple[int, list[int]]:
        """Ctrl-C; the exit status and the processes left running after it (killed)."""
        if self.process is None:
            return 0, []
        self.started |= descendants(self.process.pid)
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            status = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            status = self.process.wait()
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in self.started) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in self.started if alive(pid)]
        for pid in left:  # not to leave them running; the caller reports them
            os.kill(pid, signal.SIGKILL)
        return status, left


def sign_up(base_url: str, username: str, password: str) -> httpx.Client:
    """A new account through the sign-up form; the client is signed in."""
    client = httpx.Client(base_url=base_url, timeout=60)
    page = client.get("/accounts/signup/")
    token = _CSRF_INPUT.search(page.text).group(1)
    answer = client.post(
        "/accounts/signup/",
        data={
            "username": username,
            "password1": password,
            "password2": password,
            "csrfmiddlewaretoken": token,
        },
    )
    if answer.status_code != 302:
        raise RuntimeError(f"sign-up failed: HTTP {answer.status_code}\n{answer.text[:2000]}")
    return client


def submit(client: httpx.Client, prompt: str, endpoint: str = "flux/schnell") -> int:
    """Submit the create form as a browser does; the new job's id."""
    page = client.get(f"/create/{endpoint}")
    token = _CSRF_INPUT.search(page.text).group(1)
    answer = client.post(
        f"/create/{endpoint}", data={"prompt": prompt, "csrfmiddlewaretoken": token}
    )
    match = re.fullmatch(r"/jobs/(\d+)/", answer.headers.get("location", ""))
    if answer.status_code != 302 or not match:
        raise RuntimeError(f"submit failed: HTTP {answer.status_code}\n{answer.text[:2000]}")
    return int(match.group(1))


def job_statuses(studio: LaunchedStudio, ids: list[int]) -> dict[int, str]:
    wanted = set(ids)
    with studio.database() as db:
        rows = db.execute("SELECT id, status FROM jobs_job").fetchall()
    return {pk: status for pk, status in rows if pk in wanted}


def wait_for_jobs(studio: LaunchedStudio, ids: list[int], timeout: float = 120) -> dict[int, str]:
    """The jobs' statuses once all have ended (or at ``timeout``)."""
    terminal = {"succeeded", "failed", "cancelled"}
    deadline = time.monotonic() + timeout
    while True:
        statuses = job_statuses(studio, ids)
        if set(statuses.values()) <= terminal and len(statuses) == len(ids):
            return statuses
        if time.monotonic() > deadline:
            return statuses
        time.sleep(0.3)
