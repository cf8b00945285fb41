"""Create form submitted → job card back, through the real stack.

    .venv/bin/python bench/create_submit.py [--submissions 100] [--count 1] [--database-url URL]
                                            [--baseline-engine-in-web]

Starts the stack as `make run` does, on a fresh database: the studio's web server (uvicorn),
the engine in a uvicorn of its own (the studio's OPENJOURNEY_API_URL pointing at it) and a
Celery worker. Signs in through the login form, reads the create page of ``--model`` and
submits its form ``--submissions`` times as htmx does (a multipart POST with the
HX-Request, HX-Target and X-CSRFToken headers), one after another. Each time is from the
request leaving to the last byte of the job cards that come back (the ``#submitted``
fragment); the worker meanwhile runs the jobs against the engine, as it would in use.

Rows:

- "worker running": as above, as `make run` starts it. The target is judged on this row.
- "worker paused": the same with the worker paused (SIGSTOP; its jobs wait in Redis until
  SIGCONT): the web server alone, nothing else of the stack competing for the CPU, which
  tells the request's own cost from the cost of the jobs it starts.
- with ``--baseline-engine-in-web``, "baseline: engine in web": a second stack in the
  arrangement `make run` had before, the engine served by the studio's own web server, so
  the worker's submits, polls and downloads share that server's GIL with the studio's
  pages; worker running.

"web CPU" is the studio web server's CPU time per submission (in the baseline it includes
serving the engine's API to the worker); "engine CPU" is the engine server's, when it has
one.

Then, in this process on the same database, one submission through Django's test client
with the queries logged (their count and time), and with ``--profile`` a pyinstrument
profile of ``--profile`` more (pyinstrument must be installed: ``pip install pyinstrument``).
The target and the figures: docs/performance.md, "Create form submitted → job card back".
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
import uuid

from _setup import (
    cpu_seconds,
    form_fields,
    header,
    htmx_headers,
    percentile,
    process_tree,
    setup_django,
    sign_in,
)

TARGET_P50_MS = 50


def submit_times(url: str, model: str, submissions: int, count: int, pause: float) -> list[float]:
    client = sign_in(url, "bench", "bench-password-123")
    page_url = f"/create/{model}"
    fields = form_fields(client.get(page_url).text)
    fields.pop("csrfmiddlewaretoken", None)
    headers = htmx_headers(client, page_url, "results")
    times = []
    for number in range(submissions):
        data = {**fields, "prompt": f"a lighthouse at dawn, take {number}", "count": str(count)}
        # htmx sends the form as multipart (hx-encoding), with no file chosen.
        files = {"_": (None, "")}
        started = time.perf_counter()
        answer = client.post(page_url, data=data, files=files, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        cards = answer.text.count('class="job-card')
        if answer.status_code != 200 or cards != count:
            raise RuntimeError(
                f"submission {number}: HTTP {answer.status_code}, {cards} cards\n"
                + answer.text[:2000]
            )
        times.append(elapsed)
        time.sleep(pause)
    client.close()
    return times


def logged_submission(model: str, profile: int) -> None:
    """One submission in this process with its queries logged; then an optional profile."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username="bench"))
    page_url = f"/create/{model}"
    fields = form_fields(client.get(page_url).content.decode())
    fields.pop("csrfmiddlewaretoken", None)
    data = {**fields, "prompt": "a lighthouse at dawn, logged", "count": "1"}
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(page_url, data=data, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200, answer.status_code
    total = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    print(f"\none submission, in process: {len(queries)} queries, {total:.1f} ms of SQL")
    for query in queries.captured_queries:
        print(f"  {float(query['time']) * 1000:6.1f} ms  {query['sql'][:150]}")
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for number in range(profile):
            client.post(
                page_url, data={**data, "prompt": f"profiled {number}"}, HTTP_HX_REQUEST="true"
            )
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def servers_cpu(stack) -> tuple[float, float | None]:
    """CPU seconds so far of the studio's web server and of the engine's own server (None
    when the web server serves the engine)."""
    web = cpu_seconds(stack.process("web").pid)
    engine = cpu_seconds(stack.process("engine").pid) if "engine" in stack.names else None
    return web, engine


def cpu_spent(before: tuple, after: tuple) -> tuple[float, float | None]:
    return after[0] - before[0], None if after[1] is None else after[1] - before[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--count", type=int, default=1, help="images asked for per submission")
    parser.add_argument("--model", default="flux/schnell")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between submissions")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="profile this many, in process")
    parser.add_argument(
        "--baseline-engine-in-web",
        action="store_true",
        help="also the old arrangement: the engine served by the studio's web server",
    )
    parser.add_argument("--database-url", default=None, help="an empty database to use")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    print(header("python bench/create_submit.py " + " ".join(sys.argv[1:])))
    logging.getLogger("httpx").setLevel(logging.WARNING)

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    workdir = setup_django(args.database_url, queue)
    import redis
    from django.db import connection

    from jobs.models import ACTIVE, Job, Stage
    from tests.factories import UserFactory
    from tests.stack import issue_stack_token, start_stack

    UserFactory(username="bench", password="bench-password-123")
    issue_stack_token()

    def start(*, engine_apart: bool):
        # The bench submits faster than a person may (SUBMIT_RATE_LIMIT, 30 a minute).
        return start_stack(
            dict(connection.settings_dict),
            args.redis_url,
            workdir,
            queue=queue,
            engine_apart=engine_apart,
            extra_env={"SUBMIT_RATE_LIMIT": "0"},
        )

    def measured(stack, *, warm_up: bool) -> tuple:
        """The submissions' times, and the web and engine servers' CPU spent meanwhile."""
        if warm_up:
            submit_times(stack.url, args.model, args.warmup, args.count, args.pause)
        before = servers_cpu(stack)
        times = submit_times(stack.url, args.model, args.submissions, args.count, args.pause)
        return (times, *cpu_spent(before, servers_cpu(stack)))

    # As `make run` starts it: the engine in a server of its own.
    stack = start(engine_apart=True)
    rows = {}
    try:
        worker_pids = process_tree(stack.process("worker").pid)
        rows["worker running"] = measured(stack, warm_up=True)
        for pid in worker_pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            rows["worker paused"] = measured(stack, warm_up=False)
        finally:
            for pid in worker_pids:
                os.kill(pid, signal.SIGCONT)
        logged_submission(args.model, args.profile)
        if args.baseline_engine_in_web:
            stack.stop()
            # A fresh start: the paused run's backlog is dropped, not run during this one.
            redis.Redis.from_url(args.redis_url).delete(queue, f"{queue}.follow")
            Job.objects.filter(status__in=ACTIVE).update(status=Stage.CANCELLED)
            # The engine served by the studio's own web server (OPENJOURNEY_API_URL at it).
            stack = start(engine_apart=False)
            rows["baseline: engine in web"] = measured(stack, warm_up=True)
    finally:
        stack.stop()
        # What the worker had no time for before it stopped stays in Redis otherwise.
        redis.Redis.from_url(args.redis_url).delete(queue, f"{queue}.follow")

    print(
        f"\ncreate POST → job cards ({args.count} a time) {'n':>5} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'max ms':>8} {'web CPU ms':>11} {'engine CPU ms':>14}"
    )
    for name, (values, cpu, engine_cpu) in rows.items():
        engine_column = "-" if engine_cpu is None else f"{engine_cpu / len(values) * 1000:.1f}"
        print(
            f"{name:<34} {len(values):>5} {percentile(values, 50):>8.1f} "
            f"{percentile(values, 95):>8.1f} {max(values):>8.1f} "
            f"{cpu / len(values) * 1000:>11.1f} {engine_column:>14}"
        )
    # The target is for the studio as `make run` starts it: the first row.
    times = rows["worker running"][0]
    ok = percentile(times, 50) <= TARGET_P50_MS
    print(f"\ntarget p50 ≤ {TARGET_P50_MS} ms: {'PASS' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
