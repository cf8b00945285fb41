"""The client's address, read through the trusted proxies in front of the studio."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from studio.lib.ratelimit import client_address


def request(remote: str = "10.0.0.2", forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/accounts/login/", **extra)


def test_without_trusted_proxies_a_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "client"),
    [
        (1, "203.0.113.5", "203.0.113.5"),
        # The client wrote the first entry itself: only what our proxy appended counts.
        (1, "1.2.3.4, 203.0.113.5", "203.0.113.5"),
        (2, "1.2.3.4, 203.0.113.5, 10.0.0.7", "203.0.113.5"),
        (1, " 2001:db8::1 ", "2001:db8::1"),
        # Fewer entries than proxies: every entry is a proxy's, the furthest is the client.
        (3, "203.0.113.5, 10.0.0.7", "203.0.113.5"),
    ],
)
def test_the_client_is_the_entry_our_proxies_appended(settings, proxies, forwarded, client):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(request(forwarded=forwarded)) == client


@pytest.mark.parametrize("forwarded", [None, "", " , ", "not-an-address", "203.0.113.5, <script>"])
def test_no_usable_header_falls_back_to_the_connection(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request("10.0.0.2", forwarded)) == "10.0.0.2"


@pytest.mark.django_db
def test_behind_a_proxy_one_clients_failures_do_not_hold_up_another(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_IP_RATE_LIMIT = 3
    settings.LOGIN_RATE_LIMIT = 100

    def sign_in(username: str, address: str):
        return client.post(
            "/accounts/login/",
            {"username": username, "password": "wrong"},
            REMOTE_ADDR="10.0.0.2",  # the proxy, for everyone
            HTTP_X_FORWARDED_FOR=address,
        )

    for n in range(3):
        assert sign_in(f"guess-{n}", "203.0.113.5").status_code == 200
    assert sign_in("guess-4", "203.0.113.5").status_code == 429
    # Another client through the same proxy signs in (and fails) as usual.
    assert sign_in("someone", "198.51.100.7").status_code == 200
