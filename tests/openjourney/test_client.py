"""The httpx client against the real engine (live server), with mocks only for what the
engine cannot produce (connection resets, time-outs, HTTP-date Retry-After)."""

from __future__ import annotations

import httpx
import pytest

from engine.models import Fault
from openjourney import client as oj
from openjourney.client import OpenjourneyClient

pytestmark = pytest.mark.django_db(transaction=True)
BODY = {"prompt": "a lighthouse", "canvas": "Square", "seed": 5}


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def api_client(live_server, engine_token, sleeps):
    with OpenjourneyClient(
        f"{live_server.url}/engine", engine_token, sleep=sleeps.append
    ) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    monkeypatch.setattr("engine.tasks.run_job.delay", lambda job_id: None)


def test_submit_and_get(api_client):
    job = api_client.submit("flux/dev", BODY)
    assert job.status == "starting" and job.seed == 5 and not job.is_terminal
    again = api_client.get_job(job.id)
    assert again.id == job.id


def test_submit_accepts_any_path_spelling(api_client):
    assert api_client.submit("/v1/flux/schnell", {"prompt": "a"}).status == "starting"


def test_validation_errors_are_typed_with_fields(api_client):
    with pytest.raises(oj.ValidationFailed) as error:
        api_client.submit("flux/dev", {"prompt": "a", "canvas": "Huge"})
    assert "canvas" in error.value.errors


def test_wrong_token_is_unauthorized(live_server):
    client = OpenjourneyClient(f"{live_server.url}/engine", "oje_wrong")
    with client, pytest.raises(oj.Unauthorized):
        client.submit("flux/dev", BODY)


def test_unknown_job_is_not_found(api_client):
    with pytest.raises(oj.NotFound):
        api_client.get_job("nope")


def test_429_is_retried_honouring_retry_after_then_succeeds(api_client, sleeps):
    Fault.objects.create(kind="rate_limit", path="flux/dev", retry_after=3, remaining=2)
    assert api_client.submit("flux/dev", BODY).status == "starting"
    assert sleeps == [3.0, 3.0]


def test_429_past_the_retries_raises_rate_limited(api_client, sleeps):
    Fault.objects.create(kind="rate_limit", path="flux/dev", retry_after=2)
    with pytest.raises(oj.RateLimited) as error:
        api_client.submit("flux/dev", BODY)
    assert error.value.retry_after == 2.0
    assert len(sleeps) == api_client.max_retries


def test_5xx_on_get_is_retried_with_backoff(api_client, sleeps):
    job = api_client.submit("flux/dev", BODY)
    Fault.objects.create(kind="server_error", path="job", status_code=502, remaining=2)
    assert api_client.get_job(job.id).id == job.id
    assert sleeps == [0.5, 1.0]


def test_5xx_on_post_is_not_repeated(api_client, sleeps):
    from engine.models import EngineJob

    Fault.objects.create(kind="server_error", path="flux/dev", status_code=500, remaining=1)
    with pytest.raises(oj.SubmitUncertain):
        api_client.submit("flux/dev", BODY)
    assert sleeps == []
    assert Fault.objects.get().remaining == 0  # exactly one POST reached the engine
    assert not EngineJob.objects.exists()


def test_idempotency_key_reconciles_an_uncertain_submit(api_client):
    first = api_client.submit("flux/dev", BODY, idempotency_key="job-1")
    again = api_client.submit("flux/dev", BODY, idempotency_key="job-1")
    assert first.id == again.id


def test_malformed_json_is_typed(api_client):
    Fault.objects.create(kind="malformed_json", path="flux/dev")
    with pytest.raises(oj.MalformedResponse):
        api_client.submit("flux/dev", BODY)


def test_ping_and_license(api_client):
    assert api_client.ping()["status"] == "ok"
    assert api_client.license()["owner"] == "engine-user"


def test_unreachable_api_is_unavailable(sleeps):
    client = OpenjourneyClient("http://127.0.0.1:9/engine", "t", sleep=sleeps.append)
    with client, pytest.raises(oj.Unavailable, match="cannot be reached"):
        client.ping(retries=1)
    assert sleeps == [0.5]


def test_token_never_appears_in_repr_or_errors(live_server, engine_token):
    with OpenjourneyClient(
        f"{live_server.url}/engine", engine_token, sleep=lambda s: None
    ) as client:
        assert engine_token not in repr(client)
        Fault.objects.create(kind="server_error", path="*", status_code=503)
        with pytest.raises(oj.ApiError) as error:
            client.get_job("x")
        assert engine_token not in str(error.value)


def test_download_only_from_the_api_host(api_client):
    with pytest.raises(oj.MalformedResponse, match="not on the API's host"):
        api_client.download("http://elsewhere.example/x.png", max_bytes=10)


# --- faults the engine cannot produce: httpx's MockTransport -------------------------


def mock_client(handler, sleeps) -> OpenjourneyClient:
    return OpenjourneyClient(
        "http://api.test", "t", transport=httpx.MockTransport(handler), sleep=sleeps.append
    )


def test_timeout_on_post_is_uncertain(sleeps):
    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(oj.SubmitUncertain, match="in time"):
        mock_client(handler, sleeps).submit("flux/dev", BODY)
    assert sleeps == []


def test_connect_error_on_post_is_safe_to_retry(sleeps):
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"id": "j1", "status": "starting"})

    assert mock_client(handler, sleeps).submit("flux/dev", BODY).id == "j1"
    assert len(calls) == 2


def test_retry_after_as_http_date(sleeps):
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=4), usegmt=True)
    answers = [
        httpx.Response(429, headers={"Retry-After": when}),
        httpx.Response(
            200, json={"id": "a", "status": "succeeded", "output": "http://api.test/o.png"}
        ),
    ]

    def handler(request):
        return answers.pop(0)

    job = mock_client(handler, sleeps).get_job("a")
    assert job.is_terminal and job.output == "http://api.test/o.png"
    assert 2.5 < sleeps[0] <= 4.0


def test_job_without_id_is_malformed(sleeps):
    with pytest.raises(oj.MalformedResponse):
        mock_client(lambda r: httpx.Response(200, json={"status": "x"}), sleeps).get_job("a")


def test_download_caps_the_size(sleeps):
    big = b"x" * 5000
    client = mock_client(lambda r: httpx.Response(200, content=big), sleeps)
    with pytest.raises(oj.MalformedResponse, match="larger"):
        client.download("http://api.test/o.png", max_bytes=1000)
    content, _ = client.download("http://api.test/o.png", max_bytes=10_000)
    assert content == big
