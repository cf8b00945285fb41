"""The whole pytest suite on SQLite, then again on PostgreSQL where it is reachable.

With STRICT_SERVICES=1 (set by .ci/run) an unreachable PostgreSQL or Redis is a failure,
not a skip. Extra arguments go to pytest.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from urllib.parse import urlsplit

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2):
            return True
    except OSError:
        return False


def pytest(label: str, database_url: str, args: list[str]) -> int:
    print(f"\n=== test suite on {label} ===", flush=True)
    env = dict(os.environ, DATABASE_URL=database_url)
    # pytest exits 5 when it collected nothing: that fails the run as it should.
    return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)


def main() -> int:
    args = sys.argv[1:]
    strict = os.environ.get("STRICT_SERVICES") == "1"
    status = pytest("SQLite", "", args)
    if status:
        return status
    if reachable(POSTGRES_URL):
        return pytest(f"PostgreSQL ({urlsplit(POSTGRES_URL).hostname})", POSTGRES_URL, args)
    if strict:
        print(f"PostgreSQL is not reachable at {POSTGRES_URL}: failing (STRICT_SERVICES=1).")
        return 1
    print(f"PostgreSQL is not reachable at {POSTGRES_URL}: the PostgreSQL run is skipped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
