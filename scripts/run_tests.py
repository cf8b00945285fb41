"""`make test`'s pytest runs: the fast tier on SQLite and on PostgreSQL, the process tier once.

The process tier (`-m process`, see tests/conftest.py) is every test that starts real
processes: a worker, a live server, the stack, a browser, a subprocess. It runs once, on
PostgreSQL where that is reachable (as the stack is deployed), else on SQLite. The fast tier
(`-m "not process"`) runs on both databases. The runs go side by side, all at once: the
process tier spends most of its time waiting on its processes, and the fast runs keep the
cores busy meanwhile. Each has a test database of its own, and its output is printed whole
when it ends.

With STRICT_SERVICES=1 (set by .ci/run) an unreachable PostgreSQL or Redis is a failure,
not a skip. Extra arguments go to every pytest run; `--dry-run` prints the runs without
starting them. Every run must pass; pytest's exit 5 (it collected nothing) is a failure,
except in a tier that has none of the tests that extra arguments select.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from urllib.parse import urlsplit

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
# pytest's last line: "1665 passed, 1 skipped, 117 deselected in 201.85s" (or "2 errors in …").
CLOSING = re.compile(r"\d+ (passed|failed|skipped|errors?|deselected)\b.* in [\d.]+s")


@dataclass(frozen=True)
class Run:
    label: str
    database_url: str  # "" is SQLite (the settings' default)
    marks: str
    args: tuple[str, ...] = ()
    # The test database's suffix (tests/conftest.py): two runs on one PostgreSQL server
    # would otherwise both use test_<name>. SQLite's test file is per process already.
    database_suffix: str = ""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "pytest", "-m", self.marks, "--durations=20", *self.args]

    def env(self) -> dict[str, str]:
        # Side by side on the cores: one thread each for torch and BLAS, which would
        # otherwise start one per core in every run and contend.
        threads = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")
        return {
            **threads,
            **os.environ,
            "DATABASE_URL": self.database_url,
            "TEST_DATABASE_SUFFIX": self.database_suffix,
        }


@dataclass(frozen=True)
class Result:
    run: Run
    status: int
    seconds: float
    output: str


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2):
            return True
    except OSError:
        return False


def plan(postgres_url: str | None, args: Iterable[str] = ()) -> list[Run]:
    """The runs; ``postgres_url`` None means PostgreSQL is not reachable."""
    extra = tuple(args)
    if postgres_url is None:
        return [
            Run("process tier on SQLite", "", "process", extra),
            Run("fast tier on SQLite", "", "not process", extra),
        ]
    on = f"PostgreSQL ({urlsplit(postgres_url).hostname})"
    return [
        Run(f"process tier on {on}", postgres_url, "process", extra),
        Run("fast tier on SQLite", "", "not process", extra),
        Run(f"fast tier on {on}", postgres_url, "not process", extra, database_suffix="fast"),
    ]


def execute(run: Run) -> Result:
    """One pytest run; its output goes to a file (a pipe could fill up while nobody reads)."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as output:
        status = subprocess.call(
            run.command(), env=run.env(), stdout=output, stderr=subprocess.STDOUT
        )
        output.seek(0)
        return Result(run, status, time.monotonic() - started, output.read())


def counts(output: str) -> dict[str, int]:
    """passed / failed / skipped from pytest's closing line (errors count as failed)."""
    found = dict.fromkeys(("passed", "failed", "skipped"), 0)
    closing = [line for line in output.splitlines() if CLOSING.search(line)]
    for number, word in re.findall(
        r"(\d+) (passed|failed|skipped|errors?)\b", closing[-1] if closing else ""
    ):
        found["failed" if word.startswith("error") else word] += int(number)
    return found


def run_all(runs: list[Run], execute: Callable[[Run], Result] = execute) -> int:
    """Run ``runs`` side by side, print each as it ends and then a summary; 0 only if every
    run exited 0."""
    results = []
    with ThreadPoolExecutor(max(len(runs), 1)) as pool:
        for run in runs:
            print(f"--- started: {run.label}", flush=True)
        for future in as_completed([pool.submit(execute, run) for run in runs]):
            result = future.result()
            print(f"\n=== {result.run.label}: exit {result.status} ===\n", flush=True)
            print(result.output, flush=True)
            results.append(result)
    print("\n=== summary ===")
    total = dict.fromkeys(("passed", "failed", "skipped"), 0)
    # pytest exits 5 when it collected nothing: a failure, unless extra arguments narrowed
    # the selection (`-k signup`) to none of a tier's tests while another run ran some.
    ran = any(result.status == 0 for result in results)
    failed = 0
    for result in results:
        found = counts(result.output)
        total = {key: total[key] + found[key] for key in total}
        if result.status == 0:
            verdict = "ok"
        elif result.status == 5 and result.run.args and ran:
            verdict = "none of the selected tests"
        else:
            verdict = f"FAILED (exit {result.status})"
            failed += 1
        print(f"{result.run.label}: {verdict}, {result.seconds:.0f} s")
    print(f"total: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    return 1 if failed or not ran else 0


def main(argv: list[str]) -> int:
    # Started in the background of a shell, this process ignores SIGINT and its pytest runs
    # would too: the launcher's test could not stop `make run` with a Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    dry = "--dry-run" in argv
    args = [arg for arg in argv if arg != "--dry-run"]
    postgres = POSTGRES_URL if reachable(POSTGRES_URL) else None
    if postgres is None:
        if os.environ.get("STRICT_SERVICES") == "1":
            print(f"PostgreSQL is not reachable at {POSTGRES_URL}: failing (STRICT_SERVICES=1).")
            return 1
        print(f"PostgreSQL is not reachable at {POSTGRES_URL}: every run is on SQLite.")
    runs = plan(postgres, args)
    if dry:
        for run in runs:
            env = f"DATABASE_URL={run.database_url!r}"
            if run.database_suffix:
                env += f" TEST_DATABASE_SUFFIX={run.database_suffix}"
            print(f"{run.label}: {env} {shlex.join(run.command())}")
        return 0
    return run_all(runs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
