"""The chaos row "worker killed under make run", on `make run` itself.

    .venv/bin/python bench/make_run_kill.py [--jobs 10]

`make run` (the launcher, supervisord and its four processes, production defaults: no
short recovery clocks) on a fresh data folder and a redis-server of its own; N jobs
submitted through the create form; once one is in flight, the worker's main process gets
SIGKILL, as the out-of-memory killer would send it. Prints how long until supervisord
had started a new worker and until it was ready, then the row of the chaos table: how many
jobs ended as expected, were lost, ran twice upstream or were half-saved, and the time
from the first submit to the last job's end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from _setup import header

from studio.launcher import start_redis_server
from tests.make_run import LaunchedStudio, job_statuses, sign_up, submit, wait_for_jobs

IN_FLIGHT = {"submitting", "starting", "processing", "saving"}


def half_saved(studio: LaunchedStudio, ids: list[int]) -> int:
    """Images of these jobs whose files are missing, and files no image row names."""
    media = studio.data_dir / "media"
    on_disk = {
        str(path.relative_to(media))
        for path in media.rglob("*")
        if path.is_file() and path.relative_to(media).parts[0] != "engine"
    }
    with studio.database() as db:
        rows = db.execute("SELECT job_id, file, thumbnail FROM gallery_image").fetchall()
    named = {name for _, *names in rows for name in names if name}
    ours = [name for job, *names in rows if job in ids for name in names if name]
    return sum(name not in on_disk for name in ours) + len(on_disk - named)


def duplicated(studio: LaunchedStudio, ids: list[int]) -> int:
    """Upstream (engine) jobs beyond one per studio job, by the submit's Idempotency-Key."""
    with studio.database() as db:
        keys = dict(db.execute("SELECT id, submit_key FROM jobs_job").fetchall())
        counts = dict(
            db.execute(
                "SELECT idempotency_key, COUNT(*) FROM engine_enginejob GROUP BY idempotency_key"
            ).fetchall()
        )
    # SQLite keeps a UUID as 32 hex digits; the engine the key as the client sent it.
    total = 0
    for pk in ids:
        key = keys[pk].replace("-", "")
        matches = sum(n for k, n in counts.items() if k and k.replace("-", "") == key)
        total += max(0, matches - 1)
    return total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=300, help="seconds for the jobs")
    args = parser.parse_args()

    # A redis-server of its own (never the machine's shared one).
    server = start_redis_server(shutil.which("redis-server"), Path(tempfile.mkdtemp()))
    studio = LaunchedStudio(Path(tempfile.mkdtemp(prefix="make-run-kill-")), server.url)
    try:
        studio.start()
        client = sign_up(studio.url, "chaos", "a long enough passphrase 123")
        started = time.monotonic()
        ids = [submit(client, f"a lighthouse, take {n}") for n in range(args.jobs)]
        while not IN_FLIGHT & set(job_statuses(studio, ids).values()):
            time.sleep(0.05)
        worker = studio.worker_pid()
        killed_at = time.monotonic()
        os.kill(worker, signal.SIGKILL)
        while studio.worker_pid() in (None, worker):
            time.sleep(0.05)
        spawned = time.monotonic() - killed_at
        studio.wait_for_output("exited: worker (terminated by SIGKILL")
        # Celery's "<name> ready." of the new worker: it takes tasks from here on.
        before = studio.output().rsplit("exited: worker", 1)[0]
        while studio.output().count(" ready.") <= before.count(" ready."):
            time.sleep(0.05)
        ready = time.monotonic() - killed_at
        statuses = wait_for_jobs(studio, ids, args.timeout)
        elapsed = time.monotonic() - started
        print(header(f"bench/make_run_kill.py --jobs {args.jobs}"))
        print(f"new worker started {spawned:.1f} s after SIGKILL, ready after {ready:.1f} s")
        succeeded = sum(status == "succeeded" for status in statuses.values())
        terminal = sum(s in ("succeeded", "failed", "cancelled") for s in statuses.values())
        print(
            "| fault | submitted | terminal | as expected | lost | duplicated | half-saved | time |"
        )
        print(
            f"| worker killed under `make run` | {len(ids)} | {terminal} | {succeeded} "
            f"(succeeded) | {len(ids) - terminal} | {duplicated(studio, ids)} | "
            f"{half_saved(studio, ids)} | {elapsed:.1f} s |"
        )
        return 0 if succeeded == len(ids) else 1
    finally:
        _, left = studio.stop()
        server.stop()
        if left:
            print(f"{len(left)} processes were left after Ctrl-C", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
