"""The test tiers: the `process` mark, given where it belongs and checked where it is not.

A test that starts real processes (a Celery worker, a live server, the stack, a browser, a
redis-server, any subprocess) is marked `process`; the rest is the fast tier
(`make test-fast`: `-m "not process"`). A test that uses one of ``PROCESS_FIXTURES`` is
marked here; a test that starts a subprocess itself says so (`@pytest.mark.process`, or
`pytestmark` for a module), and an audit hook fails a test that starts one without the mark.

tests/conftest.py imports these hooks; a plugin (`-p tests.tiers`) without Django too.
"""

from __future__ import annotations

import sys

import pytest

PROCESS_FIXTURES = frozenset(
    {
        "live_server",  # pytest-django's server thread: requests hop over real sockets
        "_celery_worker_session",  # a real Celery worker on Redis (tests/conftest.py)
        "redis_server",  # a redis-server of the module's own
        "_stack",  # tests/browser: uvicorn and a Celery worker as subprocesses
        "_browser",  # tests/browser: Chromium
    }
)
# sys.audit events that start a process (multiprocessing's fork too; not its spawn).
SPAWN_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.process)


class _SpawnWatch:
    """The processes started while an unmarked test ran. An audit hook cannot be removed,
    so one is added per interpreter and looks at ``item``, None while a marked test runs."""

    hooked = False
    item: pytest.Item | None = None
    started: list[str] = []

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if event in SPAWN_EVENTS and cls.item is not None:
            what = args[1] if event == "subprocess.Popen" else args[:1]
            cls.started.append(f"{event} {what!r}"[:300])


def pytest_configure(config: pytest.Config) -> None:
    if not _SpawnWatch.hooked:
        sys.addaudithook(_SpawnWatch.hook)
        _SpawnWatch.hooked = True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    _SpawnWatch.item = None if item.get_closest_marker("process") else item
    _SpawnWatch.started = []
    try:
        return (yield)
    finally:
        _SpawnWatch.item = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """The phase (setup, call or teardown) in which an unmarked test started a process
    fails, naming what was started."""
    report = yield
    if _SpawnWatch.item is item and _SpawnWatch.started:
        started, _SpawnWatch.started = _SpawnWatch.started, []
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} started a process without the `process` mark: mark the test "
            "(or its module) with pytest.mark.process, or give it a fixture of "
            "tests/tiers.py's PROCESS_FIXTURES.\n" + "\n".join(started)
        )
    return report
