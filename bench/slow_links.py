"""A generation while two utility jobs wait on image links that send a byte a second.

    .venv/bin/python bench/slow_links.py [--rounds 3] [--fetch-timeout 15] [--interval 1]
                                         [--link-seconds 600]

Starts the real stack (uvicorn serving the studio and the engine, Celery workers as
subprocesses) on a fresh database, and a slow HTTP server of its own on loopback (the
engine is allowed to fetch from it: ENGINE_FETCH_ALLOWED_ORIGINS) whose answers send one
byte every ``--interval`` seconds (for ``--link-seconds`` at most, then the rest at once,
so that a fetch without a deadline ends too). Each round submits, through the engine's API, two
``utils/prompt-extract`` jobs whose links are on that server, waits until both downloads
have started, then submits one ``flux/schnell`` generation and times it from its POST to
``succeeded`` (polling every 50 ms). Rows:

- "generation alone": no slow link; the generation's normal time.
- "one worker for all": the engine's utility jobs on the same worker (2 processes) as the
  generation, as `make run` ran them before: the generation waits for a process, which
  the slow jobs free only at their deadline (ENGINE_FETCH_TIMEOUT; before that deadline
  existed, only when the link ended).
- "utilities apart": as `make run` runs them now, on a worker of their own (2 processes).

"slow jobs end" is when the two slow jobs ended (from their POST), and how.
Target: with the utilities apart, the generation's median within 1 s of its time alone.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
import uuid

import httpx
from _setup import header, setup_django

TARGET_EXTRA_SECONDS = 1.0
TERMINAL = {"succeeded", "failed", "cancelled"}


def submit(api: httpx.Client, slug: str, body: dict) -> str:
    response = api.post(f"/v1/{slug}", json=body)
    response.raise_for_status()
    return response.json()["id"]


def wait_for(api: httpx.Client, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/v1/job/{job_id}").json()
        if job["status"] in TERMINAL:
            return job
        time.sleep(0.05)
    raise RuntimeError(f"job {job_id} did not end within {timeout} s")


def generation_seconds(api: httpx.Client, round_number: int) -> float:
    started = time.monotonic()
    job = wait_for(api, submit(api, "flux/schnell", {"prompt": f"a fox, round {round_number}"}))
    if job["status"] != "succeeded":
        raise RuntimeError(f"the generation ended {job['status']}: {job['error']}")
    return time.monotonic() - started


def one_round(api: httpx.Client, slow, round_number: int, slow_links: bool) -> tuple:
    """The generation's seconds; with ``slow_links`` also when the slow jobs ended, how."""
    if not slow_links:
        return generation_seconds(api, round_number), None, ""
    hits = len(slow.hits)
    submitted = time.monotonic()
    slow_ids = [
        submit(api, "utils/prompt-extract", {"image": slow.url("body", f"r{round_number}-{n}")})
        for n in range(2)
    ]
    while len(slow.hits) < hits + 2:  # both downloads have started
        time.sleep(0.05)
    seconds = generation_seconds(api, round_number)
    ended = [wait_for(api, job_id) for job_id in slow_ids]
    return seconds, time.monotonic() - submitted, ended[0]["error"] or ended[0]["status"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fetch-timeout", type=int, default=15, help="ENGINE_FETCH_TIMEOUT")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between bytes")
    parser.add_argument(
        "--link-seconds", type=float, default=600, help="a slow answer's longest drip"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    print(header("python bench/slow_links.py " + " ".join(sys.argv[1:])))
    logging.getLogger("httpx").setLevel(logging.WARNING)

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    workdir = setup_django(None, queue)
    import redis
    from django.db import connection

    from tests.slow_http import SlowServer
    from tests.stack import STACK_TOKEN, issue_stack_token, start_stack

    issue_stack_token()
    rows = {}
    with SlowServer(interval=args.interval, max_seconds=args.link_seconds) as slow:
        for name, utility_worker, slow_links in [
            ("generation alone", True, False),
            ("one worker for all", False, True),
            ("utilities apart", True, True),
        ]:
            stack = start_stack(
                dict(connection.settings_dict),
                args.redis_url,
                workdir / name.replace(" ", "-"),
                queue=queue,
                utility_worker=utility_worker,
                extra_env={
                    "ENGINE_FETCH_TIMEOUT": str(args.fetch_timeout),
                    "ENGINE_FETCH_ALLOWED_ORIGINS": slow.origin,
                    "ENGINE_MAX_ACTIVE_JOBS": "1000",
                },
            )
            headers = {"Authorization": f"Bearer {STACK_TOKEN}"}
            try:
                with httpx.Client(base_url=stack.engine_url, headers=headers, timeout=30) as api:
                    generation_seconds(api, -1)  # warm-up: the first job loads the renderer
                    rows[name] = [
                        one_round(api, slow, number, slow_links) for number in range(args.rounds)
                    ]
            finally:
                stack.stop()
                redis.Redis.from_url(args.redis_url).delete(
                    queue, f"{queue}.follow", f"{queue}.utilities"
                )

    print(
        f"\n{'generation (POST → succeeded)':<22} {'n':>3} {'median s':>9} {'max s':>7} "
        f"{'slow jobs end s':>16}  how they end"
    )
    for name, results in rows.items():
        seconds = [r[0] for r in results]
        ends = [r[1] for r in results if r[1] is not None]
        end_column = f"{statistics.median(ends):.1f}" if ends else "-"
        print(
            f"{name:<22} {len(seconds):>3} {statistics.median(seconds):>9.2f} "
            f"{max(seconds):>7.2f} {end_column:>16}  {results[-1][2] or '-'}"
        )
    alone = statistics.median(r[0] for r in rows["generation alone"])
    apart = statistics.median(r[0] for r in rows["utilities apart"])
    ok = apart <= alone + TARGET_EXTRA_SECONDS
    verdict = "PASS" if ok else "FAIL"
    print(f"\ntarget: utilities apart ≤ alone + {TARGET_EXTRA_SECONDS:g} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
