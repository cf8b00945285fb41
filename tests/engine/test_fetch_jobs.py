"""A utility job whose image link cannot be fetched ends ``failed`` with the reason, never
"internal error": each kind of fetch failure, through the API and a real worker."""

from __future__ import annotations

import socket

import pytest

from tests.engine.conftest import wait_for_job
from tests.engine.http_fixtures import FIXTURES, LoopbackServer
from tests.slow_http import SlowServer

pytestmark = pytest.mark.django_db(transaction=True)
PNG = (FIXTURES / "coffee.png").read_bytes()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# kind -> (how the loopback server answers, the sentence the job ends with)
CASES = {
    "redirect to data:": (
        {"status": 302, "Location": "data:image/png;base64,iVBORw0KGgo="},
        "The image link redirected to data:…. Image links must use http or https.",
    ),
    "redirect to file:": (
        {"status": 301, "Location": "file:///etc/passwd"},
        "The image link redirected to file:…. Image links must use http or https.",
    ),
    "too many redirects": (
        {"status": 302, "Location": "/a.png"},
        "The image link redirected too many times.",
    ),
    "redirect to a refused address": (
        {"status": 302, "Location": "http://169.254.169.254/latest/meta-data/"},
        "The image link redirected to 169.254.169.254/latest/meta-data/. Image links to "
        "private, loopback or link-local addresses are refused (169.254.169.254 is "
        "169.254.169.254).",
    ),
    "bad status": ({"status": 403}, "The image link answered HTTP 403."),
    "not an image": ({"body": b"<html>hello</html>"}, "The file is not an image."),
    "too large": ({"body": PNG * 2}, "The linked image is larger than the engine accepts."),
}


@pytest.mark.parametrize("kind", CASES)
def test_each_fetch_failure_ends_the_job_with_its_sentence(api, celery_worker, settings, kind):
    answer, sentence = CASES[kind]
    settings.ENGINE_FETCH_MAX_BYTES = len(PNG) + 1
    with LoopbackServer() as server:
        settings.ENGINE_FETCH_ALLOWED_ORIGINS = [server.origin]
        answer = dict(answer)
        url = server.route(
            "/a.png", answer.pop("body", b""), status=answer.pop("status", 200), **answer
        )
        job = submit_and_wait(api, url)
    assert (job["status"], job["error"]) == ("failed", sentence)


def test_a_link_that_sends_a_byte_a_second_ends_at_the_deadline(api, celery_worker, settings):
    settings.ENGINE_FETCH_TIMEOUT = 2
    with SlowServer(interval=0.25, max_seconds=20) as slow:
        settings.ENGINE_FETCH_ALLOWED_ORIGINS = [slow.origin]
        job = submit_and_wait(api, slow.url("body", "cat.png"))
    assert (job["status"], job["error"]) == (
        "failed",
        "The image at 127.0.0.1/body/cat.png took longer than 2 s to download.",
    )


def test_a_server_that_is_not_listening(api, celery_worker, settings):
    origin = f"http://127.0.0.1:{closed_port()}"
    settings.ENGINE_FETCH_ALLOWED_ORIGINS = [origin]
    job = submit_and_wait(api, origin + "/cat.png")
    assert (job["status"], job["error"]) == (
        "failed",
        "The server of the image at 127.0.0.1/cat.png could not be reached.",
    )


def submit_and_wait(api, url: str) -> dict:
    response = api.post("/v1/utils/prompt-extract", json={"image": url})
    assert response.status_code == 200, response.text
    return wait_for_job(api, response.json()["id"], timeout=30)
