"""Every way a fetch of an image link can fail ends in a sentence saying what was wrong.

Each refusal is a FetchRefused (a UtilityError: the job ends ``failed`` with its message),
never another exception (which would end the job "internal error"). The only servers are
on loopback; names go through a resolver that knows one public name and refuses the rest.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from engine.fetch import FetchRefused, fetch_image
from engine.render.utilities.errors import UtilityError
from openjourney.netcheck import is_public_address
from tests.engine.http_fixtures import FIXTURES, LoopbackServer
from tests.slow_http import SlowServer

PNG = (FIXTURES / "coffee.png").read_bytes()


@pytest.fixture(autouse=True)
def _no_real_dns(monkeypatch):
    """Numeric hosts only, and never a public address: nothing leaves this machine."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if not (host.replace(".", "").isdigit() or ":" in host):
            raise socket.gaierror(f"test resolver: {host} not allowed")
        infos = real(host, port, *args, **kwargs)
        if any(is_public_address(info[4][0]) for info in infos):
            raise socket.gaierror(f"test resolver: {host} is public")
        return infos

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@contextmanager
def raw_answer(settings, answer: bytes) -> Iterator[str]:
    """A loopback server that sends ``answer`` as it is to one request, then hangs up."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        origin = f"http://127.0.0.1:{server.getsockname()[1]}"
        settings.ENGINE_FETCH_ALLOWED_ORIGINS = [origin]

        def answer_once() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(4096)
                connection.sendall(answer)

        thread = threading.Thread(target=answer_once, daemon=True)
        thread.start()
        yield origin + "/a.png"
        thread.join(5)


@pytest.fixture
def loopback(settings):
    with LoopbackServer() as server:
        settings.ENGINE_FETCH_ALLOWED_ORIGINS = [server.origin]
        yield server


def refusal(url: str) -> str:
    with pytest.raises(FetchRefused) as caught:
        fetch_image(url, user_id=1)
    return str(caught.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("location", "sentence"),
    [
        (
            "data:image/png;base64,iVBORw0KGgo=",
            "The image link redirected to data:…. Image links must use http or https.",
        ),
        (
            "file:///etc/passwd",
            "The image link redirected to file:…. Image links must use http or https.",
        ),
        (
            "ftp://photos.example/a.png",
            "The image link redirected to ftp:…. Image links must use http or https.",
        ),
        (
            "javascript:alert(1)",
            "The image link redirected to javascript:…. Image links must use http or https.",
        ),
        (
            "http://10.0.0.7/secret.png",
            "The image link redirected to 10.0.0.7/secret.png. Image links to private, loopback "
            "or link-local addresses are refused (10.0.0.7 is 10.0.0.7).",
        ),
        (
            "http://nowhere.invalid/a.png",
            "The image link redirected to nowhere.invalid/a.png. The image link's host "
            "'nowhere.invalid' does not resolve.",
        ),
        (
            "http://photos.example:99999/a.png",
            "The image link redirected to photos.example/a.png. The image link is not a valid URL.",
        ),
        ("http://[::1", "The image link redirected to an invalid link."),
        (
            "http://photos.example/a b.png",
            "The image link redirected to photos.example/a b.png. The image link's host "
            "'photos.example' does not resolve.",
        ),
    ],
)
def test_a_redirect_to_a_link_the_engine_refuses_says_where_it_led(loopback, location, sentence):
    url = loopback.route("/hop", b"", status=302, Location=location)
    assert refusal(url) == sentence
    assert loopback.hits == ["/hop"]


@pytest.mark.django_db
def test_a_redirect_without_a_location(loopback):
    assert refusal(loopback.route("/hop", b"", status=302)) == "The image link redirected nowhere."


@pytest.mark.django_db
def test_too_many_redirects(loopback):
    url = loopback.route("/loop", b"", status=307, Location="/loop")
    assert refusal(url) == "The image link redirected too many times."
    assert len(loopback.hits) == 4  # the link and three redirects


@pytest.mark.django_db
def test_a_refused_address(settings):
    settings.ENGINE_FETCH_ALLOWED_ORIGINS = []
    assert refusal("http://127.0.0.1:9/a.png") == (
        "Image links to private, loopback or link-local addresses are refused "
        "(127.0.0.1 is 127.0.0.1)."
    )


@pytest.mark.django_db
def test_an_unsupported_scheme():
    assert refusal("data:image/png;base64,iVBORw0KGgo=") == "Image links must use http or https."


@pytest.mark.django_db
@pytest.mark.parametrize("status", [403, 404, 500, 304])
def test_a_bad_status(loopback, status):
    url = loopback.route("/a.png", b"no", status=status)
    assert refusal(url) == f"The image link answered HTTP {status}."


@pytest.mark.django_db
def test_not_an_image(loopback):
    url = loopback.route("/a.png", b"<html>hello</html>", Content_Type="image/png")
    with pytest.raises(UtilityError, match=r"^The file is not an image\.$"):
        fetch_image(url, user_id=1)


@pytest.mark.django_db
def test_too_large_by_its_declared_length_and_by_what_arrives(loopback, settings):
    settings.ENGINE_FETCH_MAX_BYTES = 1000
    url = loopback.route("/big.png", PNG, Content_Type="image/png")
    assert refusal(url) == "The linked image is larger than the engine accepts."
    # No Content-Length: the bytes are counted as they arrive.
    with raw_answer(settings, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + PNG) as url:
        assert refusal(url) == "The linked image is larger than the engine accepts."


@pytest.mark.django_db
def test_a_server_that_is_not_listening(settings):
    with socket.socket() as sock:  # a port that was free a moment ago, nobody listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.ENGINE_FETCH_ALLOWED_ORIGINS = [f"http://127.0.0.1:{port}"]
    assert refusal(f"http://127.0.0.1:{port}/a.png") == (
        "The server of the image at 127.0.0.1/a.png could not be reached."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answer",
    [b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n\x89PNG", b"SSH-2.0-OpenSSH_9.6\r\n"],
    ids=["cut short", "not http"],
)
def test_a_server_that_breaks_off_or_does_not_speak_http(settings, answer):
    with raw_answer(settings, answer) as url:
        sentence = refusal(url)
    assert (
        sentence == "The download of the image at 127.0.0.1/a.png broke off (RemoteProtocolError)."
    )


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["body", "headers"])
def test_a_link_that_sends_a_byte_at_a_time_ends_at_the_total_deadline(settings, kind):
    # Each byte arrives well within any per-read timeout: only a total deadline ends it.
    settings.ENGINE_FETCH_TIMEOUT = 1
    with SlowServer(interval=0.1, max_seconds=8) as slow:
        settings.ENGINE_FETCH_ALLOWED_ORIGINS = [slow.origin]
        sentence = refusal(slow.url(kind, "cat.png"))
    assert sentence == f"The image at 127.0.0.1/{kind}/cat.png took longer than 1 s to download."


@pytest.mark.django_db
def test_the_deadline_counts_every_redirect(loopback, settings):
    settings.ENGINE_FETCH_TIMEOUT = 1
    with SlowServer(interval=0.1, max_seconds=8) as slow:
        settings.ENGINE_FETCH_ALLOWED_ORIGINS = [loopback.origin, slow.origin]
        url = loopback.route("/hop", b"", status=302, Location=slow.url("body"))
        assert refusal(url) == "The image at 127.0.0.1/hop took longer than 1 s to download."


@pytest.mark.django_db
def test_the_sentence_never_shows_the_query_of_a_link(settings):
    settings.ENGINE_FETCH_TIMEOUT = 1
    with SlowServer(interval=0.1, max_seconds=8) as slow:
        settings.ENGINE_FETCH_ALLOWED_ORIGINS = [slow.origin]
        sentence = refusal(slow.url("body") + "?X-Amz-Signature=secret")
    assert "secret" not in sentence


# Header values http.server can send: printable Latin-1, no line breaks.
LOCATIONS = st.one_of(
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
        max_size=60,
    ),
    st.sampled_from(["data:", "http://", "https://[", "//", "http:\\\\x", "?a", "#f", "/"]).flatmap(
        lambda prefix: st.text(
            st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30
        ).map(lambda rest: prefix + rest)
    ),
)


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(location=LOCATIONS)
def test_any_redirect_ends_in_a_sentence(loopback, location):
    url = loopback.route("/hop", b"", status=302, Location=location)
    with pytest.raises(FetchRefused) as caught:  # never another exception
        fetch_image(url, user_id=1)
    assert str(caught.value).endswith(".")
