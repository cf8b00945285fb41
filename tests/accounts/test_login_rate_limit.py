"""Sign-in attempts are limited per username and per address: 429 with Retry-After."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.LOGIN_RATE_LIMIT = 3
    settings.LOGIN_IP_RATE_LIMIT = 5
    settings.LOGIN_RATE_WINDOW = 900


def sign_in(client, username: str, password: str, address: str = "203.0.113.5"):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def test_after_the_failures_allowed_even_the_right_password_waits(client, owner, password):
    for _ in range(3):
        assert sign_in(client, "owner", "wrong").status_code == 200
    response = sign_in(client, "OWNER", password)  # any spelling of the name
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 900
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from another address is not held up.
    other = sign_in(client, "someone-else", "wrong", address="198.51.100.7")
    assert other.status_code == 200


def test_successful_sign_ins_are_not_counted(client, owner, password):
    for _ in range(5):
        assert sign_in(client, "owner", password).status_code == 302
        client.logout()


def test_one_address_trying_many_names_is_limited(client):
    for n in range(5):
        assert sign_in(client, f"name{n}", "wrong").status_code == 200
    assert sign_in(client, "name-new", "wrong").status_code == 429
    assert sign_in(client, "name-new", "wrong", address="198.51.100.7").status_code == 200


def test_the_limit_ends_with_its_window(client, owner, password, monkeypatch):
    import time

    for _ in range(3):
        sign_in(client, "owner", "wrong")
    assert sign_in(client, "owner", password).status_code == 429
    later = time.time() + 901
    monkeypatch.setattr(time, "time", lambda: later)
    assert sign_in(client, "owner", password).status_code == 302


def test_an_unreachable_cache_lets_sign_in_through(client, owner, password, settings):
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
    for _ in range(4):
        assert sign_in(client, "owner", "wrong").status_code == 200
    assert sign_in(client, "owner", password).status_code == 302
