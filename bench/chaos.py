"""Every fault scenario on the real stack, with N jobs each; prints the report's table.

    .venv/bin/python bench/chaos.py [--jobs 20] [--only kill-save,redis-flush]
        [--database-url postgres://postgres@127.0.0.1:5432/chaos]

A fresh database (SQLite in a temporary folder unless --database-url), a redis-server of
its own on a free loopback port (restarted and flushed by the scenarios: never the shared
one), and the stack: uvicorn, a studio worker, an engine worker and the scheduler, with
short recovery clocks (tests/chaos/scenarios.py, CHAOS_ENV).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

from _setup import header, setup_django


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20, help="jobs per scenario")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--timeout", type=float, default=180, help="seconds per scenario")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    queue = f"chaos-{uuid.uuid4().hex[:8]}"
    workdir = setup_django(args.database_url, queue, engine_worker=True)
    from django.db import connection

    from tests.chaos.scenarios import SCENARIOS, RedisServer, start_chaos_stack, table
    from tests.factories import UserFactory

    names = [n for n in args.only.split(",") if n] or list(SCENARIOS)
    owner = UserFactory(username="chaos")
    server = RedisServer(Path(tempfile.mkdtemp(prefix="chaos-redis-")))
    server.start()
    stack = start_chaos_stack(dict(connection.settings_dict), server, workdir)
    outcomes = []
    try:
        for name in names:
            print(f"{name} ...", file=sys.stderr, flush=True)
            outcome = SCENARIOS[name](stack, server, owner, args.jobs, args.timeout)
            print(f"  {outcome}", file=sys.stderr, flush=True)
            outcomes.append(outcome)
    finally:
        stack.stop()
        server.stop()
    print(header("bench/chaos.py " + " ".join(sys.argv[1:])))
    print(f"# database: {connection.vendor}, {args.jobs} jobs per fault")
    print(table(outcomes))
    for outcome in outcomes:
        if outcome.errors:
            print(f"# {outcome.scenario}: " + " | ".join(outcome.errors))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
