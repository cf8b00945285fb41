"""50 open pages receiving live updates: the server's memory and CPU, and no update dropped.

    .venv/bin/python bench/live_pages.py [--users 10] [--pages-per-user 5] [--jobs 4]

Starts the web server (uvicorn) and a Celery worker on a fresh database, as `make run` does,
signs ``--users`` users in through the login form and opens ``--pages-per-user`` pages for
each: each page is the event stream an open studio page holds (``GET /jobs/events/`` with
that user's session, read line by line as the browser's EventSource reads it). Then each
user submits ``--jobs`` images through the create form (an htmx POST), all users at once;
the worker runs them on the engine served by the same web server.

Reported: the web server's resident memory (VmRSS) and CPU time before the pages open, with
them open and idle, and during the burst of jobs; the same for the worker (its prefork
children included; CPU % is of one core). Checked: every
page saw, for every job of its user, each change the worker published through to the
result (``succeeded``), in order, and nothing of another user's jobs — and how long after
the worker stored a result (``Job.finished_at``) each page heard of it.

Pages are HTTP clients, not browser tabs: 50 Chromium tabs on a 2-core machine would
measure the browser more than the server; the server sees the same thing either way (a
signed-in stream per page). bench/live_updates.py follows one page in a real browser.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
from _setup import (
    form_fields,
    header,
    htmx_headers,
    percentile,
    setup_django,
    sign_in,
    tree_usage,
)

MODEL = "flux/schnell"


@dataclass
class Page:
    user: str
    events: list[tuple[int, str, float]] = field(default_factory=list)  # job, status, when
    open: asyncio.Event = field(default_factory=asyncio.Event)


async def follow(base_url: str, cookies: httpx.Cookies, page: Page) -> None:
    """Read one page's event stream until cancelled; each ``job-<id>`` event is recorded."""
    async with (
        httpx.AsyncClient(base_url=base_url, cookies=cookies, timeout=None) as client,
        client.stream("GET", "/jobs/events/", headers={"Accept": "text/event-stream"}) as response,
    ):
        assert response.status_code == 200, response.status_code
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("retry:"):
                page.open.set()  # the server has subscribed this page
            elif line.startswith("event: job-"):
                event = line.removeprefix("event: job-")
            elif line.startswith("data: ") and event:
                page.events.append((int(event), line.removeprefix("data: "), time.time()))
                event = ""
    raise RuntimeError("a page's stream ended before the bench did")


def submit(base_url: str, username: str, jobs: int) -> list[int]:
    """The create form posted as htmx posts it; the ids of the job cards that came back."""
    client = sign_in(base_url, username, "bench-password-123")
    fields = form_fields(client.get(f"/create/{MODEL}").text)
    fields.pop("csrfmiddlewaretoken", None)
    answer = client.post(
        f"/create/{MODEL}",
        data={**fields, "prompt": f"a lighthouse for {username}", "count": str(jobs)},
        headers=htmx_headers(client, f"/create/{MODEL}", "results"),
    )
    client.close()
    assert answer.status_code == 200, answer.status_code
    return [int(pk) for pk in re.findall(r'id="job-(\d+)"', answer.text)]


class Usage:
    """CPU time and peak resident memory of some processes (each with its children),
    sampled every 0.2 s."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak = {name: tree_usage(pid)[1] for name, pid in pids.items()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], tree_usage(pid)[1])

    def snapshot(self) -> dict[str, tuple[float, float, float]]:
        """Per process: (wall time, CPU seconds so far, RSS MB now)."""
        now = time.monotonic()
        return {name: (now, *tree_usage(pid)) for name, pid in self.pids.items()}

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


async def run(args, stack, usernames: list[str]) -> dict:
    from jobs.models import Job

    pages = [Page(user) for user in usernames for _ in range(args.pages_per_user)]
    sessions = {}
    for user in usernames:
        client = sign_in(stack.url, user, "bench-password-123")
        sessions[user] = client.cookies
        client.close()
    usage = Usage({"web": stack.processes[0].pid, "worker": stack.processes[1].pid})
    snapshots = {"before": usage.snapshot()}
    tasks = [asyncio.create_task(follow(stack.url, sessions[page.user], page)) for page in pages]
    await asyncio.wait_for(asyncio.gather(*(page.open.wait() for page in pages)), 60)
    snapshots["pages open"] = usage.snapshot()
    await asyncio.sleep(args.idle_seconds)
    snapshots["idle"] = usage.snapshot()

    started = time.monotonic()
    submitted = await asyncio.gather(
        *(asyncio.to_thread(submit, stack.url, user, args.jobs) for user in usernames)
    )
    expected = dict(zip(usernames, submitted, strict=True))

    def all_seen() -> bool:
        return all(
            {job for job, status, _ in page.events if status in ("succeeded", "failed")}
            >= set(expected[page.user])
            for page in pages
        )

    deadline = time.monotonic() + args.timeout
    while not all_seen() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    burst_seconds = time.monotonic() - started
    snapshots["burst"] = usage.snapshot()
    await asyncio.sleep(1)  # anything late or stray would arrive now
    for task in tasks:
        if task.done():
            task.result()  # a stream that ended early says why
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    usage.stop()

    jobs = {
        job.pk: job
        for job in await asyncio.to_thread(
            lambda: list(Job.objects.filter(pk__in=[pk for ids in submitted for pk in ids]))
        )
    }
    return {
        "pages": pages,
        "expected": expected,
        "jobs": jobs,
        "snapshots": snapshots,
        "peak": usage.peak,
        "burst_seconds": burst_seconds,
    }


def check(result: dict) -> tuple[list[str], list[float]]:
    """What went wrong (a dropped, foreign or out-of-order update), and result → page delays."""
    problems, delays = [], []
    by_user: dict[str, list[list[tuple[int, str]]]] = {}
    for number, page in enumerate(result["pages"]):
        mine = set(result["expected"][page.user])
        seen = [(job, status) for job, status, _ in page.events]
        foreign = [job for job, _ in seen if job not in mine]
        if foreign:
            problems.append(f"page {number} ({page.user}) saw others' jobs {sorted(set(foreign))}")
        for pk in mine:
            job = result["jobs"][pk]
            statuses = [status for job_id, status in seen if job_id == pk]
            if job.status not in statuses:
                problems.append(f"page {number} ({page.user}) missed job {pk} {job.status}")
                continue
            if statuses[-1] != job.status:
                problems.append(f"page {number}: job {pk} ended on {statuses[-1]} in the page")
            when = next(t for job_id, s, t in page.events if job_id == pk and s == job.status)
            if job.finished_at:
                delays.append((when - job.finished_at.timestamp()) * 1000)
        by_user.setdefault(page.user, []).append(seen)
    for user, sequences in by_user.items():
        if any(sequence != sequences[0] for sequence in sequences):
            problems.append(f"{user}'s pages did not all see the same updates")
    return problems, delays


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--pages-per-user", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=4, help="images each user asks for")
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--database-url", default=None, help="an empty database to use")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    print(header("python bench/live_pages.py " + " ".join(sys.argv[1:])))
    logging.getLogger("httpx").setLevel(logging.WARNING)

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    workdir = setup_django(args.database_url, queue)
    from django.db import connection

    from tests.factories import UserFactory
    from tests.stack import issue_stack_token, start_stack

    usernames = [f"bench{number}" for number in range(args.users)]
    for username in usernames:
        UserFactory(username=username, password="bench-password-123")
    issue_stack_token()
    stack = start_stack(dict(connection.settings_dict), args.redis_url, workdir, queue=queue)
    try:
        result = asyncio.run(run(args, stack, usernames))
    finally:
        stack.stop()

    problems, delays = check(result)
    snapshots = result["snapshots"]
    pages = len(result["pages"])
    jobs = result["jobs"]
    events = sum(len(page.events) for page in result["pages"])
    print(
        f"\n{pages} pages ({args.users} users × {args.pages_per_user}), {len(jobs)} jobs "
        f"({sum(j.status == 'succeeded' for j in jobs.values())} succeeded), {events:,} updates "
        f"received in all; the burst took {result['burst_seconds']:.1f} s"
    )
    print(f"\n{'process':<8} {'phase':<34} {'RSS MB':>7} {'CPU %':>6}")
    phases = list(snapshots)
    for name in ("web", "worker"):
        for before, after in itertools.pairwise(phases):
            wall0, cpu0, _ = snapshots[before][name]
            wall1, cpu1, rss = snapshots[after][name]
            label = {
                "pages open": f"opening {pages} pages",
                "idle": f"{pages} pages open, idle {args.idle_seconds:.0f} s",
                "burst": f"{len(jobs)} jobs, {pages} pages told",
            }[after]
            cpu = (cpu1 - cpu0) / max(wall1 - wall0, 1e-9) * 100
            print(f"{name:<8} {label:<34} {rss:>7.0f} {cpu:>6.1f}")
        print(
            f"{name:<8} {'before the pages / peak':<34} "
            f"{snapshots['before'][name][2]:>7.0f} / {result['peak'][name]:.0f} MB"
        )
    per_page = (snapshots["idle"]["web"][2] - snapshots["before"]["web"][2]) / pages * 1024
    print(f"\nweb server memory per open page: {per_page:.0f} KB")
    print(
        f"result stored → the update in every page: p50 {percentile(delays, 50):.0f} ms, "
        f"p95 {percentile(delays, 95):.0f} ms, max {max(delays, default=float('nan')):.0f} ms "
        f"({len(delays)} page × job pairs)"
    )
    for problem in problems[:20]:
        print("  " + problem)
    print(f"\nno dropped update: {'PASS' if not problems else f'FAIL ({len(problems)})'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
