"""Fixtures shared by the whole suite."""

from __future__ import annotations

import itertools
import os
import uuid

import httpx
import pytest
import redis
from django.test import Client

from teams.models import Role
from tests.factories import MembershipFactory, TeamFactory, UserFactory

# The tiers (the `process` mark, and the check that a test starting a process has it).
from tests.tiers import (  # noqa: F401 (pytest finds hooks by their names here)
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_makereport,
    pytest_runtest_protocol,
)

STRICT_SERVICES = os.environ.get("STRICT_SERVICES") == "1"

if os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") != "1":
    # pytest-xdist runs a process per core: each keeps to one thread for torch, BLAS and
    # OpenCV, which would otherwise start one per core each and contend (set before the
    # test modules import them; Django's set-up imports none of them).
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    import cv2

    cv2.setNumThreads(1)


def require_service(name: str, reachable: bool) -> None:
    """Skip when a service is missing, except in CI where that is a failure."""
    if reachable:
        return
    message = f"{name} is not reachable"
    if STRICT_SERVICES:
        pytest.fail(f"{message} (STRICT_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a running Redis server (the one the machine provides)."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        ok = bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        ok = False
    require_service(f"Redis at {url}", ok)
    return url


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A redis-server of the module's own, for tests that stop or restart Redis (never the
    machine's shared one)."""
    import shutil

    from tests.chaos.scenarios import RedisServer

    require_service("redis-server (the binary)", shutil.which("redis-server") is not None)
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """A test database of its own for each of scripts/run_tests.py's runs on one PostgreSQL
    server (TEST_DATABASE_SUFFIX): test_test_fast beside test_test. SQLite's test file is
    named after the process already (studio/settings.py)."""
    suffix = os.environ.get("TEST_DATABASE_SUFFIX")
    if not suffix:
        return
    from django.conf import settings

    for database in settings.DATABASES.values():
        if database["ENGINE"] != "django.db.backends.sqlite3":
            test = database.setdefault("TEST", {})
            test["NAME"] = f"{test.get('NAME') or 'test_' + database['NAME']}_{suffix}"


@pytest.fixture(autouse=True, scope="session")
def _static_files_listed_once():
    """WhiteNoise lists and stats every static file when its middleware is built, and each
    test client builds the middleware afresh: a quarter of a view test's time. The list is
    made once per configuration (the files do not change while the tests run)."""
    from django.conf import settings
    from whitenoise.middleware import WhiteNoiseMiddleware

    listed: dict[tuple, dict] = {}
    list_files = WhiteNoiseMiddleware.add_files_from_finders

    def add_files_from_finders(self) -> None:
        if self.files:  # STATIC_ROOT's files came first: list as WhiteNoise does
            return list_files(self)
        key = (
            type(self), self.static_prefix, self.max_age, self.allow_all_origins,
            self.charset, self.index_file, self.add_headers_function,
            repr(getattr(settings, "WHITENOISE_MIMETYPES", None)), repr(settings.STATICFILES_DIRS),
            tuple(settings.STATICFILES_FINDERS), tuple(settings.INSTALLED_APPS),
        )  # fmt: skip
        if key not in listed:
            list_files(self)
            listed[key] = dict(self.files)
        self.files.update(listed[key])

    WhiteNoiseMiddleware.add_files_from_finders = add_files_from_finders
    yield
    WhiteNoiseMiddleware.add_files_from_finders = list_files


@pytest.fixture(scope="session")
def _media_roots(tmp_path_factory):
    return tmp_path_factory.mktemp("media"), itertools.count()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, _media_roots) -> None:
    """Files written by a test never land in the real data folder: each test has a media
    folder of its own, made only if it stores a file (a tmp_path for every test was a folder
    made, and removed by a later run, for each of 1,800 tests)."""
    base, numbers = _media_roots
    settings.MEDIA_ROOT = base / str(next(numbers))


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty default cache (the API's health badge is kept there),
    so no test sees what an earlier one left."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Almost every test makes users; a real password hash costs 0.2-0.3 s each here.

    Browser tests sign in through a server in another process, which checks passwords with
    the real hashers: tests/browser/conftest.py turns this off there.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Job events go out on Redis channels named after the queue (jobs/events.py), and channels
# ignore Redis's database number: runs side by side (make test's, pytest-xdist's workers,
# another checkout's) would hear each other's jobs of the same ids.
RUN_QUEUE = f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(autouse=True)
def _event_channels_of_this_run(settings) -> None:
    settings.CELERY_TASK_DEFAULT_QUEUE = RUN_QUEUE


@pytest.fixture(autouse=True)
def _rate_limits_in_memory(settings) -> None:
    """Each test counts its own attempts from zero, in this process, never in the shared
    Redis (where runs side by side would count each other's users)."""
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"ratelimit-{uuid.uuid4().hex}",
        },
    }


@pytest.fixture
def password() -> str:
    return "correct horse battery staple"


@pytest.fixture
def owner(password):
    """The user whose objects a test is about."""
    return UserFactory(username="owner", password=password)


@pytest.fixture
def outsider(password):
    """A signed-up user with no claim on the owner's objects."""
    return UserFactory(username="outsider", password=password)


@pytest.fixture
def team(owner):
    """A team the owner owns."""
    return TeamFactory(name="Studio team", created_by=owner)


@pytest.fixture
def member(team, password):
    """An editor of the owner's team."""
    user = UserFactory(username="member", password=password)
    MembershipFactory(team=team, user=user, role=Role.EDITOR)
    return user


@pytest.fixture
def viewer(team, password):
    """A viewer of the owner's team."""
    user = UserFactory(username="viewer", password=password)
    MembershipFactory(team=team, user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def client_for(user) -> Client:
    """A test client signed in as ``user``."""
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def member_client(member):
    return client_for(member)


@pytest.fixture
def viewer_client(viewer):
    return client_for(viewer)


@pytest.fixture
def outsider_client(outsider):
    return client_for(outsider)


@pytest.fixture
def no_submit(monkeypatch):
    """Jobs are created but not sent: these tests are about the studio's side."""
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)


@pytest.fixture(scope="session")
def _celery_worker_session(redis_url, django_db_setup):
    """One real Celery worker (threads, on Redis) for the session, on a queue of its own.

    It stops before the test database is dropped, and each task closes its thread's
    database connection, so none is left open on the database at the end.
    """
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    task_postrun.connect(_close_connection, weak=False)

    from studio.celery import app

    queue = f"test-{uuid.uuid4().hex[:12]}"
    from kombu import Queue

    # Every task on this run's own queue: a developer's running studio is left alone.
    app.conf.update(
        broker_url=redis_url,
        task_default_queue=queue,
        task_queues=[Queue(queue, routing_key=queue)],
        task_routes={
            "engine.tasks.*": {"queue": queue},
            "jobs.tasks.follow_jobs": {"queue": queue},
        },
        task_always_eager=False,
    )
    with start_worker(
        app,
        pool="threads",
        concurrency=2,
        perform_ping_check=False,
        shutdown_timeout=30,
        loglevel="WARNING",
    ) as worker:
        yield worker
    # Leave nothing behind in the shared Redis.
    redis.Redis.from_url(redis_url).delete(queue)


def _close_connection(**kwargs) -> None:
    from django.db import connection

    connection.close()


@pytest.fixture
def celery_worker(_celery_worker_session, transactional_db):
    """A running worker; the test's data is committed so the worker sees it."""
    return _celery_worker_session


@pytest.fixture
def engine_user(db):
    return UserFactory(username="engine-user")


@pytest.fixture
def engine_token(engine_user) -> str:
    from engine.models import ApiToken

    _, raw = ApiToken.issue(engine_user, "tests")
    return raw


@pytest.fixture
def api(live_server, engine_token):
    """An httpx client on the engine, authenticated with the test token."""
    with httpx.Client(
        base_url=f"{live_server.url}/engine",
        headers={"Authorization": f"Bearer {engine_token}"},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture
def studio_on_engine(settings, live_server, engine_token, celery_worker):
    """The studio pointed at the engine on the live server, with a real worker running."""
    settings.OPENJOURNEY_API_URL = f"{live_server.url}/engine"
    settings.OPENJOURNEY_API_TOKEN = engine_token
    from django.core.cache import cache

    cache.clear()
    return live_server


def wait_for(predicate, timeout: float = 30, interval: float = 0.05, message: str = ""):
    """Wait until ``predicate()`` is truthy; fail the test after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(message or f"condition not met within {timeout} s")
        time.sleep(interval)


def wait_for_job_end(job, timeout: float = 60):
    """Wait until ``job`` (re-read from the database) has ended; fail after ``timeout``."""

    def ended():
        job.refresh_from_db()
        return job.is_terminal

    wait_for(ended, timeout, message=f"job {job.pk} did not end")
    return job
