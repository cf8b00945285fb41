"""Benchmarks of the local engine: the renderers, the utilities and the whole stack.

    .venv/bin/python bench/engine.py              # everything, 5 runs a row
    .venv/bin/python bench/engine.py --runs 9 --no-stack

Three sections, each printed as a Markdown table to paste into docs/engine.md; the targets
and the figures are in docs/performance.md (the engine's rows):

render      render_image + encode_png per canvas (and render_svg at 1024 x 1024): median and
            p95 of N runs after one warm-up run, against the targets for a 1 MP and a 4 MP
            canvas. PASS/FAIL is judged on the median.
utilities   each utility on tests/fixtures/astronaut.png scaled to 1024 x 1024: median of N
            runs after a warm-up (which loads the face cascades); the x4 upscales against
            their target.
stack       the real thing: a uvicorn web server and a Celery worker (concurrency 2) as
            subprocesses, on a fresh SQLite database in a temporary STUDIO_DATA_DIR, an
            empty Redis database and a queue of their own (CELERY_QUEUE), so a studio
            running on this machine is not disturbed. Jobs are submitted over HTTP and
            polled every 50 ms; the figure is the time from sending the POST to the first
            poll that sees ``succeeded`` (so up to 50 ms of it is the polling interval).

p95 is the nearest-rank percentile: with fewer than 20 runs it is the slowest run.
Speed is measured here, never in tests (DEVELOPERS.md).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import platform
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ first on sys.path, where this very file would shadow
# the project's ``engine`` package; the project root goes there instead.
sys.path[0] = str(ROOT)

from openjourney.catalog import CANVAS_ALL  # noqa: E402 (needs the path above)

TARGET_1MP_S = 0.150
TARGET_4MP_S = 0.600
TARGET_UPSCALE_X4_S = 1.0
PROMPT = "mountains at sunset over a lake"
# With drawn subjects (three drawings, five instances, shadows and a reflection).
SUBJECT_PROMPT = "three cats, a red car and a sailboat by a lake"
# The same scene without them (its subjects in the negative prompt): what they cost.
SUBJECT_NEGATIVE = "cats, car, sailboat"
SEED = 1234
POLL_INTERVAL_S = 0.05

# (endpoint slug, canvas) of the raster rows: the four 1 MP canvases with 1.1 Pro (flux/dev
# has only three), the four 4 MP ones with 1.1 Pro Ultra (the table's sizes doubled).
RASTER_ROWS = [
    *(("flux/1.1/pro", canvas) for canvas in CANVAS_ALL),
    *(("flux/1.1/pro-ultra", canvas) for canvas in CANVAS_ALL),
]


# --- measuring ------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with ``fraction`` of them at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def time_runs(work: Callable[[], object], runs: int) -> list[float]:
    """Seconds per call of ``work``, ``runs`` times, after one warm-up call not counted."""
    work()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return timings


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.1f} ms" if value < 10 else f"{value:,.0f} ms"


def verdict(seconds: float, target: float | None) -> str:
    if target is None:
        return "-"
    return "PASS" if seconds <= target else "FAIL"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; numbers (and verdicts) right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    right = [i > 0 for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        padded = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "| "
        + " | ".join(
            ("-" * (w - 1) + ":") if r else "-" * w for w, r in zip(widths, right, strict=True)
        )
        + " |"
    )
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


# --- render and utilities --------------------------------------------------------------------


def bench_render(runs: int) -> str:
    from engine.render.png import encode_png
    from engine.render.svg import SVG_STYLES, render_svg
    from engine.render.text_to_image import render_image
    from openjourney.catalog import get_endpoint

    rows = []
    subject_rows = [
        (slug, canvas, SUBJECT_PROMPT, negative)
        for slug, canvas in RASTER_ROWS[::4]
        for negative in ("", SUBJECT_NEGATIVE)
    ]
    plain_rows = [(s, c, PROMPT, "") for s, c in RASTER_ROWS]
    for slug, canvas, prompt, negative in plain_rows + subject_rows:
        endpoint = get_endpoint(slug)
        size = endpoint.size_for(canvas)
        params = {"prompt": prompt, "canvas": canvas, "seed": SEED, "negative_prompt": negative}

        def work(slug=slug, params=params, size=size) -> bytes:
            return encode_png(render_image(slug, params, size))

        timings = time_runs(work, runs)
        target = TARGET_4MP_S if size[0] * size[1] > 2_000_000 else TARGET_1MP_S
        median = statistics.median(timings)
        rows.append(
            [
                f"{slug} {canvas}"
                + (", subjects" if prompt == SUBJECT_PROMPT else "")
                + (" left out" if negative else ""),
                f"{size[0]} x {size[1]}",
                ms(median),
                ms(percentile(timings, 0.95)),
                f"<= {ms(target)}",
                verdict(median, target),
            ]
        )

    svg_size = get_endpoint("re-craft/svg").size_for("Square")
    for style, prompt in [(s, p) for p in (PROMPT, SUBJECT_PROMPT) for s in SVG_STYLES]:
        svg_params = {"prompt": prompt, "canvas": "Square", "style": style, "seed": SEED}
        timings = time_runs(lambda svg_params=svg_params: render_svg(svg_params, svg_size), runs)
        median = statistics.median(timings)
        rows.append(
            [
                f"re-craft/svg Square, {style}"
                + (", subjects" if prompt == SUBJECT_PROMPT else ""),
                f"{svg_size[0]} x {svg_size[1]}",
                ms(median),
                ms(percentile(timings, 0.95)),
                f"<= {ms(TARGET_1MP_S)}",
                verdict(median, TARGET_1MP_S),
            ]
        )
    headers = ["renderer (render + encode)", "size", "median", "p95", "target", "result"]
    return table(headers, rows)


def bench_utilities(runs: int) -> str:
    from PIL import Image, ImageOps

    from engine.render.utilities.clarify import CLARIFY_TYPES, clarify
    from engine.render.utilities.face_restore import face_restore
    from engine.render.utilities.face_swap import face_swap
    from engine.render.utilities.prompt_extract import extract_prompt
    from engine.render.utilities.remove_background import remove_background
    from engine.render.utilities.upscale import UPSCALE_MODELS, upscale

    with Image.open(ROOT / "tests" / "fixtures" / "astronaut.png") as source:
        photo = source.convert("RGB").resize((1024, 1024), Image.Resampling.LANCZOS)
    mirrored = ImageOps.mirror(photo)  # a second face for face_swap

    cases: list[tuple[str, Callable[[], object], float | None]] = [
        *(
            (f'clarify "{kind}"', lambda kind=kind: clarify(photo, kind), None)
            for kind in CLARIFY_TYPES
        ),
        ("face_restore", lambda: face_restore(photo), None),
        ("face_swap", lambda: face_swap(mirrored, photo), None),
        ("remove_background", lambda: remove_background(photo), None),
        *(
            (
                f'upscale "{name}" (x{method.factor})',
                lambda name=name: upscale(photo, name),
                TARGET_UPSCALE_X4_S if method.factor == 4 else None,
            )
            for name, method in UPSCALE_MODELS.items()
        ),
        ("extract_prompt", lambda: extract_prompt(photo), None),
    ]
    rows = []
    for label, work, target in cases:
        timings = time_runs(work, runs)
        median = statistics.median(timings)
        rows.append(
            [
                label,
                ms(median),
                ms(percentile(timings, 0.95)),
                f"<= {ms(target)}" if target else "-",
                verdict(median, target),
            ]
        )
    return table(["utility on 1024 x 1024", "median", "p95", "target", "result"], rows)


# --- the whole stack -------------------------------------------------------------------------


@dataclass
class Stack:
    """The web server and the worker, in a data folder and a Redis database of their own."""

    data_dir: Path
    redis_url: str
    port: int
    env: dict[str, str]
    token: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/engine"

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def start(self, name: str, command: list[str]) -> None:
        log = self.data_dir / f"{name}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            # A session of its own: a Ctrl-C in the terminal reaches only this script, which
            # then stops the children in order (see stop()).
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)

    def check_alive(self) -> None:
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{log.stem} exited with {process.returncode}:\n{tail}")

    def stop(self) -> None:
        """SIGTERM (a warm shutdown for Celery, a graceful one for uvicorn), then SIGKILL."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def empty_redis_url(base_url: str, wanted: int | None) -> str:
    """The URL of an empty Redis database: ``wanted``, or the highest-numbered empty one."""
    import redis

    parts = urlsplit(base_url)
    candidates = [wanted] if wanted is not None else list(range(15, 0, -1))
    for number in candidates:
        url = urlunsplit(parts._replace(path=f"/{number}"))
        if redis.Redis.from_url(url, socket_connect_timeout=2).dbsize() == 0:
            return url
    raise RuntimeError(
        f"No empty Redis database to run the stack in (tried {candidates}); pass --redis-db."
    )


@contextlib.contextmanager
def running_stack(redis_db: int | None, keep: bool) -> Iterator[Stack]:
    import redis

    redis_url = empty_redis_url(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0", redis_db)
    data_dir = Path(tempfile.mkdtemp(prefix="ojs-bench-"))
    env = {
        key: value
        for key, value in os.environ.items()
        # Whatever a developer's shell points at (their database, media, faults) stays theirs.
        if key
        not in {
            *("DATABASE_URL", "MEDIA_ROOT", "S3_BUCKET", "ENGINE_FAULTS", "PORT"),
            *("CELERY_QUEUE", "ENGINE_QUEUE", "FOLLOW_QUEUE"),
        }
    }
    env.update(
        STUDIO_DATA_DIR=str(data_dir),
        # An empty Redis database and a queue name of its own: nothing another studio or
        # test run on this Redis sends can reach this worker, and the other way round.
        REDIS_URL=redis_url,
        CELERY_QUEUE=f"bench-{secrets.token_hex(6)}",
        # Production-like: no debug overhead (query logging); plain http on loopback.
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        SECURE_HSTS_SECONDS="0",
        LOG_LEVEL="WARNING",
        # The figures are about latency, not the per-token cap.
        ENGINE_MAX_ACTIVE_JOBS="100000",
        PYTHONUNBUFFERED="1",
    )
    stack = Stack(data_dir=data_dir, redis_url=redis_url, port=free_port(), env=env)
    try:
        stack.manage("migrate", "--noinput")
        token = stack.manage("create_engine_token", "bench").strip().splitlines()[-1]
        stack.start(
            "web",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "studio.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(stack.port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
        )
        stack.start(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "studio",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "WARNING",
                "--hostname",
                f"bench-{os.getpid()}@%h",
                # Alone on its Redis database: nobody to gossip or mingle with.
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )
        stack.token = token
        yield stack
    finally:
        stack.stop()
        # The database was empty when chosen; what is in it now is the run's queue.
        redis.Redis.from_url(redis_url).flushdb()
        if keep:
            print(f"\n(kept {data_dir})", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class Timed:
    job_id: str
    sent: float
    done: float | None = None
    predict_time: float | None = None


def run_batch(client, stack: Stack, slug: str, body: dict, count: int) -> list[Timed]:
    """Submit ``count`` jobs at once, then poll every pending one every 50 ms until all end."""
    jobs = []
    for _ in range(count):
        sent = time.perf_counter()
        response = client.post(f"/v1/{slug}", json=body)
        response.raise_for_status()
        jobs.append(Timed(response.json()["id"], sent))
    deadline = time.monotonic() + 300
    pending = list(jobs)
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} jobs of {slug} did not end within 300 s")
        stack.check_alive()
        for job in list(pending):
            answer = client.get(f"/v1/job/{job.job_id}").json()
            if answer["status"] in ("failed", "cancelled"):
                raise RuntimeError(f"job {job.job_id} ended {answer['status']}: {answer['error']}")
            if answer["status"] == "succeeded":
                job.done = time.perf_counter()
                job.predict_time = answer["metrics"]["predict_time"]
                pending.remove(job)
        time.sleep(POLL_INTERVAL_S)
    return jobs


def wait_until_ready(client, stack: Stack) -> None:
    deadline = time.monotonic() + 90
    while True:
        stack.check_alive()
        with contextlib.suppress(Exception):
            if client.get("/v1/internal/ping").status_code == 200:
                break
        if time.monotonic() > deadline:
            raise RuntimeError("The web server did not answer within 90 s.")
        time.sleep(0.2)


def bench_stack(
    jobs: int, ultra_jobs: int, sequential: int, redis_db: int | None, keep: bool
) -> str:
    import httpx

    square = {"prompt": PROMPT, "canvas": "Square"}
    rows = []
    with running_stack(redis_db, keep) as stack:
        headers = {"Authorization": f"Bearer {stack.token}"}
        with httpx.Client(base_url=stack.base_url, headers=headers, timeout=30) as client:
            wait_until_ready(client, stack)
            # Two jobs first, not counted: each of the worker's two processes imports numpy
            # and OpenCV and warms up on one.
            run_batch(client, stack, "flux/dev", square, 2)

            plan = [
                (
                    f"flux/dev Square, one at a time (x{sequential})",
                    "flux/dev",
                    square,
                    1,
                    sequential,
                ),
                (f"flux/dev Square, {jobs} at once", "flux/dev", square, jobs, 1),
                (
                    f"flux/1.1/pro-ultra Square, {ultra_jobs} at once",
                    "flux/1.1/pro-ultra",
                    square,
                    ultra_jobs,
                    1,
                ),
            ]
            for label, slug, body, batch, repeats in plan:
                if batch * repeats == 0:
                    continue
                timed: list[Timed] = []
                start = time.perf_counter()
                for _ in range(repeats):
                    timed += run_batch(client, stack, slug, body, batch)
                wall = time.perf_counter() - start
                latencies = [job.done - job.sent for job in timed if job.done is not None]
                work = [job.predict_time for job in timed if job.predict_time is not None]
                rows.append(
                    [
                        label,
                        ms(statistics.median(latencies)),
                        ms(percentile(latencies, 0.95)),
                        ms(statistics.median(work)),
                        f"{len(timed) / wall:.1f}/s",
                    ]
                )
    headers = [
        "submit -> succeeded (HTTP, 2 worker processes)",
        "p50",
        "p95",
        "in worker (p50)",
        "jobs/s",
    ]
    return table(headers, rows)


# --- the command -----------------------------------------------------------------------------


def machine() -> str:
    import cv2
    import numpy
    import PIL

    load = " / ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return "\n".join(
        [
            f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
            f"- machine: {platform.platform()}, {platform.machine()}, "
            f"{os.cpu_count()} CPUs (os.cpu_count()), load average {load} at start",
            f"- Python {platform.python_version()}, numpy {numpy.__version__}, "
            f"OpenCV {cv2.__version__}, Pillow {PIL.__version__}",
            f"- command: {shlex.join([os.path.relpath(sys.executable, ROOT), *sys.argv])}",
        ]
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row (default 5)")
    parser.add_argument("--no-render", action="store_true", help="skip the renderers")
    parser.add_argument("--no-utilities", action="store_true", help="skip the utilities")
    parser.add_argument("--no-stack", action="store_true", help="skip the web + worker run")
    parser.add_argument("--jobs", type=int, default=20, help="flux/dev jobs sent at once")
    parser.add_argument("--ultra-jobs", type=int, default=5, help="pro-ultra jobs sent at once")
    parser.add_argument("--sequential", type=int, default=5, help="flux/dev jobs one by one")
    parser.add_argument("--redis-db", type=int, help="Redis database for the stack (empty)")
    parser.add_argument("--keep", action="store_true", help="keep the stack's data folder")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    # SIGTERM (a CI runner, say) unwinds like Ctrl-C, so the stack is stopped; SIGINT is set
    # too because a shell starts background jobs with it ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)

    print("# Engine benchmark\n")
    print(machine(), flush=True)
    if not args.no_render:
        print(f"\n## Renderers ({args.runs} runs a row, after one warm-up)\n", flush=True)
        print(bench_render(args.runs), flush=True)
    if not args.no_utilities:
        print(f"\n## Utilities ({args.runs} runs a row, after one warm-up)\n", flush=True)
        print(bench_utilities(args.runs), flush=True)
    if not args.no_stack:
        print("\n## Whole stack (uvicorn + Celery on Redis, SQLite)\n", flush=True)
        print(
            bench_stack(args.jobs, args.ultra_jobs, args.sequential, args.redis_db, args.keep),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrupted; everything started was stopped.", file=sys.stderr)
        sys.exit(130)
