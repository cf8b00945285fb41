"""The Celery app's fix of kombu's Redis transport (studio/celery.py)."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import redis
from kombu import Connection
from kombu.transport import redis as kombu_redis

import studio.celery  # noqa: F401  the app applies its fix on import


def test_a_closed_broker_connection_is_a_connection_error_not_an_attribute_error():
    # What a channel holds once Redis went away: its connection's client is gone.
    closed = SimpleNamespace(connection=SimpleNamespace(client=None))
    with pytest.raises(redis.exceptions.ConnectionError):
        kombu_redis.Channel._connparams(closed)
    # ...which is among the errors Celery ignores while it closes a lost connection.
    errors = Connection("redis://127.0.0.1:6379/0").connection_errors
    assert issubclass(redis.exceptions.ConnectionError, errors)


def test_an_open_connection_still_gets_its_parameters(redis_url):
    with Connection(redis_url) as connection:
        channel = connection.channel()
        params = channel._connparams()
        url = urlsplit(redis_url)
        assert (params["host"], params["port"]) == (url.hostname, url.port or 6379)
        channel.close()
