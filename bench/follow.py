"""Jobs in flight followed by 2 worker processes, through the real stack.

    .venv/bin/python bench/follow.py [--jobs 1000] [--job-seconds 20] [--baseline-seconds 120]

Starts the web server (which serves the engine) and a Celery worker with 2 processes on a
fresh database. The engine is told (a ``job_slow`` fault) to take ``--job-seconds`` for every
job, without holding a worker, so that ``--jobs`` jobs are in flight at once. Every second
the bench records how many jobs are followed, the polls the studio made (``Job.poll_count``)
and the worker processes' memory, until every job has ended.

Then the baseline: the same number of upstream jobs, each followed by a task that polls
every 5 s and sleeps between polls (bench/baseline_tasks.py), on the same 2 processes, for
``--baseline-seconds``; it reports how many jobs it saw finish in that time.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

from _setup import header, percentile, setup_django


def rss_mb(pids: list[int]) -> float:
    """Resident memory of the processes and their children, in MB (Linux)."""
    total = 0
    seen = set()
    stack = list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            stack.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--job-seconds", type=float, default=20)
    parser.add_argument("--baseline-seconds", type=float, default=120)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--database-url", default=None, help="an empty database to use")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    print(header("python bench/follow.py " + " ".join(sys.argv[1:])))

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    workdir = setup_django(args.database_url, queue, engine_worker=True)
    from django.db import connection
    from django.db.models import Sum

    from engine.models import Fault
    from jobs.models import FOLLOWED, TERMINAL, Job, Stage
    from jobs.services import create_jobs
    from openjourney.catalog import get_endpoint
    from tests.factories import UserFactory
    from tests.stack import STACK_TOKEN, issue_stack_token, start_stack

    owner = UserFactory(username="bench")
    issue_stack_token(max_active_jobs=100_000)
    Fault.objects.create(kind="job_slow", path="*", delay_ms=int(args.job_seconds * 1000))
    stack = start_stack(
        dict(connection.settings_dict),
        args.redis_url,
        workdir,
        queue=queue,
        worker_concurrency=2,
        engine_worker=True,
        worker_args=["--include", "bench.baseline_tasks", "--pool", "prefork"],
        extra_env={"PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    worker_pid = stack.processes[1].pid
    # The beat's periodic kick, which make run's scheduler sends every 5 s.
    from jobs.tasks import follow_jobs

    try:
        endpoint = get_endpoint("flux/schnell")
        started = time.monotonic()
        for _ in range(args.jobs):
            create_jobs(owner, endpoint, {"prompt": "a lighthouse"})
        print(f"\n{args.jobs} jobs created in {time.monotonic() - started:.1f} s; following…")

        samples = []
        last_polls, last_t = 0, time.monotonic()
        kicked = 0.0
        while True:
            time.sleep(1)
            now = time.monotonic()
            if now - kicked > 5:
                follow_jobs.delay()
                kicked = now
            in_flight = Job.objects.filter(status__in=FOLLOWED).count()
            ended = Job.objects.filter(status__in=TERMINAL).count()
            polls = Job.objects.aggregate(total=Sum("poll_count"))["total"] or 0
            rate = (polls - last_polls) / (now - last_t)
            last_polls, last_t = polls, now
            memory = rss_mb([worker_pid])
            samples.append((now - started, in_flight, ended, rate, memory))
            print(
                f"  t={now - started:6.1f}s  in flight {in_flight:5d}  ended {ended:5d}  "
                f"polls/s {rate:6.1f}  worker RSS {memory:6.1f} MB",
                flush=True,
            )
            if ended >= args.jobs or now - started > args.job_seconds * 10 + 120:
                break
        total = time.monotonic() - started
        succeeded = Job.objects.filter(status=Stage.SUCCEEDED).count()
        failed = Job.objects.filter(status=Stage.FAILED).count()
        rates = [s[3] for s in samples if s[1] > 0]
        memories = [s[4] for s in samples]
        print(
            f"\nstudio follower: {succeeded}/{args.jobs} succeeded, {failed} failed, "
            f"in {total:.1f} s; peak in flight {max(s[1] for s in samples)}; "
            f"polls/s p50 {percentile(rates, 50):.0f}, max {max(rates):.0f} "
            f"(cap {__import__('django.conf').conf.settings.FOLLOW_MAX_POLLS_PER_SECOND}); "
            f"total polls {last_polls} ({last_polls / max(1, args.jobs):.1f} a job); "
            f"worker RSS {memories[0]:.0f} → {max(memories):.0f} MB"
        )

        if not args.no_baseline:
            import redis
            from django.conf import settings

            from bench.baseline_tasks import follow_sleeping
            from engine.models import EngineJob
            from jobs.upstream import get_client

            settings.OPENJOURNEY_API_URL = f"{stack.url}/engine"
            settings.OPENJOURNEY_API_TOKEN = STACK_TOKEN
            client = get_client()
            counter = f"bench:baseline:{queue}"
            store = redis.Redis.from_url(args.redis_url)
            started = time.monotonic()
            upstream = []
            for _ in range(args.jobs):
                # As the official client does: submit, then follow that job until it ends.
                upstream.append(client.submit("flux/schnell", {"prompt": "a"}).id)
                follow_sleeping.delay(upstream[-1], counter)
            print(f"\nbaseline: {args.jobs} jobs submitted, one sleeping follower task each")
            while time.monotonic() - started < args.baseline_seconds:
                time.sleep(1)
            seen = {k.decode(): float(v) for k, v in store.hgetall(counter).items()}
            finished = dict(
                EngineJob.objects.filter(pk__in=upstream, status="succeeded").values_list(
                    "pk", "completed_at"
                )
            )
            lags = [seen[pk] - at.timestamp() for pk, at in finished.items() if pk in seen]
            print(
                f"baseline: after {args.baseline_seconds:.0f} s, {len(finished)} of {args.jobs} "
                f"jobs had finished upstream; the sleeping followers (2 at a time) had seen "
                f"{len(seen)} end, {percentile(lags, 50):.1f} s (p50) / "
                f"{percentile(lags, 95):.1f} s (p95) after they ended; "
                f"{len(finished) - len(seen)} finished jobs not yet seen"
            )
            store.delete(counter)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
