"""Shared set-up of the benchmarks: a fresh database, Django, and the real stack."""

from __future__ import annotations

import datetime
import os
import platform
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
# `python bench/x.py` puts bench/ first on the path, where bench/engine.py would shadow the
# engine package: the project's root comes first instead.
_BENCH_DIR = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _BENCH_DIR]
sys.path.insert(0, str(BASE_DIR))


def header(command: str) -> str:
    return (
        f"# {command}\n"
        f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def setup_django(database_url: str | None, queue: str, *, engine_worker: bool = False) -> Path:
    """Point Django at a fresh data folder (and database) and migrate it."""
    workdir = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    os.environ["STUDIO_DATA_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["CELERY_QUEUE"] = queue
    os.environ["FOLLOW_QUEUE"] = f"{queue}.follow"
    os.environ["ENGINE_QUEUE"] = f"{queue}.engine" if engine_worker else queue
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    return workdir


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]
