"""A total deadline on httpx requests: a slow server is cut off when it is spent."""

from __future__ import annotations

import httpx
import pytest

from openjourney.deadline import DeadlineTransport, deadline, seconds_left
from tests.slow_http import PNG, SlowServer


@pytest.fixture
def slow():
    with SlowServer(interval=0.1, max_seconds=6) as server:
        yield server


@pytest.mark.parametrize("kind", ["body", "headers"])
def test_a_server_sending_a_byte_at_a_time_is_cut_off_at_the_deadline(slow, kind):
    # A read timeout of 5 s never fires: every byte comes within 0.1 s.
    client = httpx.Client(transport=DeadlineTransport(), timeout=5)
    with client, deadline(0.8), pytest.raises(httpx.TimeoutException):
        client.get(slow.url(kind)).read()
    assert slow.hits == [f"/{kind}/slow.png"]


def test_outside_a_deadline_the_transport_is_httpx_own(slow):
    slow.max_seconds = 0  # everything at once
    with httpx.Client(transport=DeadlineTransport(), timeout=5) as client:
        response = client.get(slow.url("body"))
    assert response.status_code == 200
    assert response.content == PNG


def test_a_connection_kept_alive_obeys_the_deadline_of_its_next_request(slow):
    slow.max_seconds, slow.keep_alive = 0, True
    with httpx.Client(transport=DeadlineTransport(), timeout=5) as client:
        assert client.get(slow.url("body")).status_code == 200  # no deadline
        slow.max_seconds = 6
        with deadline(0.5), pytest.raises(httpx.TimeoutException):
            client.get(slow.url("body")).read()
    assert slow.connections == 1


def test_nested_deadlines_keep_the_earlier():
    assert seconds_left() is None
    with deadline(1):
        with deadline(60):
            assert seconds_left() <= 1
        with deadline(0.1):
            assert seconds_left() <= 0.1
        assert 0.1 < seconds_left() <= 1
    assert seconds_left() is None
