"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os

import pytest
import redis

from tests.factories import UserFactory

STRICT_SERVICES = os.environ.get("STRICT_SERVICES") == "1"


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


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:
    """Files written by a test never land in the real data folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


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
def owner_client(client, owner):
    client.force_login(owner)
    return client
