"""Helpers for the fault tests of the job path: injected database errors, counted submits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import OperationalError
from django.db.backends.utils import CursorWrapper


@contextmanager
def database_fails(*fragments: str, times: int = 1) -> Iterator[list[int]]:
    """The next ``times`` statements containing every fragment fail as if the database
    had gone away, on the in-process worker's threads (the test's own thread is spared).
    Yields [failures]."""
    original = CursorWrapper.execute
    lock = threading.Lock()
    state = {"left": times}
    failures = [0]

    def execute(self, sql, params=None):
        with lock:
            hit = (
                state["left"] > 0
                and threading.current_thread() is not threading.main_thread()
                and all(fragment in sql for fragment in fragments)
            )
            if hit:
                state["left"] -= 1
                failures[0] += 1
        if hit:
            raise OperationalError("server closed the connection unexpectedly (injected)")
        return original(self, sql, params)

    CursorWrapper.execute = execute
    try:
        yield failures
    finally:
        CursorWrapper.execute = original


def studio_files(media_root: Path) -> list[str]:
    """The studio's stored files (the engine's own outputs, under engine/, left out)."""
    root = Path(media_root)
    if not root.exists():
        return []
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.relative_to(root).parts[0] != "engine"
    )


def engine_jobs_for(job) -> int:
    """How many jobs the engine created for one studio job (its Idempotency-Key)."""
    from engine.models import EngineJob

    return EngineJob.objects.filter(idempotency_key=str(job.submit_key)).count()
