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


def test_spellings_that_sign_in_as_one_user_share_its_count(client, password):
    # Sign-in reads a name as Django's UsernameField does (stripped, NFKC): fullwidth
    # "ｃａｒｏｌ" signs in as carol, so it must spend carol's guesses, not get its own.
    from tests.factories import UserFactory

    UserFactory(username="carol", password=password)
    for spelling in ("ｃａｒｏｌ", " carol ", "ｃarol"):
        assert sign_in(client, spelling, "wrong").status_code == 200
    for spelling in ("carol", "ｃａｒｏｌ", "CAROL"):
        response = sign_in(client, spelling, password)
        assert response.status_code == 429, spelling
    assert "_auth_user_id" not in client.session


def test_a_fullwidth_name_signs_in_as_its_user_while_unlocked(client, password):
    from tests.factories import UserFactory

    carol = UserFactory(username="carol", password=password)
    assert sign_in(client, "ｃａｒｏｌ", password).status_code == 302
    assert client.session["_auth_user_id"] == str(carol.pk)


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_are_checked_at_most_the_limit(settings, password, redis_url):
    """30 wrong passwords at once, on the real Redis cache and the real (slow) hasher: at
    most LOGIN_RATE_LIMIT reach the password check, the others answer 429 unchecked."""
    import threading
    import uuid

    from django.contrib.auth.signals import user_login_failed
    from django.db import connection
    from django.test import Client

    from tests.factories import UserFactory

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-login-{uuid.uuid4().hex}",
        },
    }
    settings.LOGIN_IP_RATE_LIMIT = 0  # only the per-username limit here
    UserFactory(username="carol", password=password)

    checked = []
    lock = threading.Lock()

    def on_failure(**kwargs) -> None:
        with lock:
            checked.append(kwargs["credentials"]["username"])

    user_login_failed.connect(on_failure, weak=False)
    start = threading.Barrier(30)
    statuses: list[int] = []

    def attempt(n: int) -> None:
        try:
            start.wait()
            spelling = "carol" if n % 2 else "ｃａｒｏｌ"
            response = sign_in(Client(), spelling, f"wrong-{n}", address=f"198.51.100.{n}")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(30)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        user_login_failed.disconnect(on_failure)
    assert len(statuses) == 30
    assert len(checked) <= settings.LOGIN_RATE_LIMIT, f"{len(checked)} passwords checked"
    assert statuses.count(429) >= 30 - settings.LOGIN_RATE_LIMIT
    assert set(statuses) <= {200, 429}
