"""Submitting: both path styles, every kind of bad body, unknown paths, the active-job cap."""

from __future__ import annotations

import json

import pytest

from engine.models import ApiToken, EngineJob, Status
from openjourney.catalog import ENDPOINTS, SEED_MAX

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(engine_token):
    return {"Authorization": f"Bearer {engine_token}"}


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    # These tests are about the HTTP answer; the job's run is tested with a real worker.
    monkeypatch.setattr("engine.tasks.run_job.delay", lambda job_id: None)


def post(client, path, body, auth, raw=False):
    data = body if raw else json.dumps(body)
    return client.post(path, data, content_type="application/json", headers=auth)


@pytest.mark.parametrize("prefix", ["/engine/v1/", "/engine/"])
def test_post_returns_the_job_at_once_with_and_without_v1(client, auth, prefix):
    response = post(client, prefix + "flux/dev", {"prompt": "a fox", "canvas": "Portrait"}, auth)
    assert response.status_code == 200
    job = response.json()
    assert job["status"] == "starting"
    assert job["model"] == "/v1/flux/dev"
    assert job["input"]["canvas"] == "Portrait"
    assert job["output"] is None and job["error"] is None
    assert job["created_at"] and job["started_at"] is None
    assert EngineJob.objects.get(pk=job["id"]).status == Status.STARTING


def test_blank_seed_gets_a_random_one_recorded_and_returned(client, auth):
    seeds = set()
    for _ in range(3):
        job = post(
            client, "/engine/v1/sd/3.5/large", {"prompt": "a fox", "canvas": "Square"}, auth
        ).json()
        assert 0 <= job["seed"] <= SEED_MAX
        assert job["input"]["seed"] == job["seed"]
        seeds.add(job["seed"])
    assert len(seeds) == 3


def test_given_seed_is_kept(client, auth):
    job = post(
        client, "/engine/v1/flux/dev", {"prompt": "a", "canvas": "Square", "seed": 42}, auth
    ).json()
    assert job["seed"] == 42 and job["input"]["seed"] == 42


def test_endpoint_without_seed_still_records_the_one_it_used(client, auth):
    job = post(client, "/engine/v1/flux/schnell", {"prompt": "a fox"}, auth).json()
    assert isinstance(job["seed"], int)
    assert "seed" not in job["input"]


def test_defaults_are_filled_in(client, auth):
    job = post(client, "/engine/v1/sdxl/pony", {"prompt": "a fox", "canvas": "Square"}, auth).json()
    assert job["input"]["model"] == "pony"
    assert job["input"]["scheduler"] == "DPM++ 2M SDE Karras"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"canvas": "Square"}, "prompt", "This field is required."),
        ({"prompt": "a", "canvas": "Huge"}, "canvas", "'Huge' is not one of"),
        ({"prompt": "a", "canvas": "Square", "seed": "12"}, "seed", "Expected an integer."),
        ({"prompt": "a", "canvas": "Square", "seed": -1}, "seed", "Must be at least 0."),
        ({"prompt": "a", "canvas": "Square", "seed": 2**32}, "seed", "Must be at most 4294967295."),
        ({"prompt": "a", "canvas": "Square", "steps": 4}, "steps", "Unknown field."),
        ({"prompt": 5, "canvas": "Square"}, "prompt", "Expected a string."),
        ({"prompt": "a" * 2001, "canvas": "Square"}, "prompt", "at most 2000 characters"),
    ],
)
def test_bad_bodies_get_422_naming_each_field(client, auth, body, field, message):
    response = post(client, "/engine/v1/flux/dev", body, auth)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(message in text for text in errors[field]), errors
    assert not EngineJob.objects.exists()


def test_every_error_is_reported_at_once(client, auth):
    body = {"canvas": "Huge", "guidance": 99, "negative_prompt": 3, "extra": True}
    errors = post(client, "/engine/v1/sdxl/generative", body, auth).json()["errors"]
    assert set(errors) == {"prompt", "canvas", "guidance", "negative_prompt", "extra"}


def test_wrong_type_for_guidance_and_raw(client, auth):
    errors = post(
        client,
        "/engine/v1/flux/1.1/pro-ultra",
        {"prompt": "a", "canvas": "Square", "raw": "yes"},
        auth,
    ).json()["errors"]
    assert "raw" in errors
    errors = post(
        client,
        "/engine/v1/sd/1/generative",
        {"prompt": "a", "canvas": "Square", "guidance": True},
        auth,
    ).json()["errors"]
    assert "guidance" in errors


def test_utility_image_must_be_an_http_url(client, auth):
    errors = post(client, "/engine/v1/utils/upscale", {"image": "file:///etc/passwd"}, auth).json()
    assert "image" in errors["errors"]


@pytest.mark.parametrize("body", [b"not json", b"{", b"\xff\xfe", b""])
def test_non_json_body_is_400(client, auth, body):
    response = post(client, "/engine/v1/flux/dev", body, auth, raw=True)
    assert response.status_code == 400
    assert response.json()["detail"] == "The request body is not valid JSON."


@pytest.mark.parametrize("body", [[], "text", 3, None])
def test_json_that_is_not_an_object_is_422(client, auth, body):
    response = post(client, "/engine/v1/flux/dev", body, auth)
    assert response.status_code == 422


def test_deeply_nested_json_is_not_a_500(client, auth):
    body = b"[" * 100_000 + b"]" * 100_000
    response = post(client, "/engine/v1/flux/dev", body, auth, raw=True)
    assert response.status_code in (400, 413)


@pytest.mark.parametrize(
    "path",
    ["/engine/v1/flux/nope", "/engine/v1/nothing", "/engine/whatever/else", "/engine/v2/flux/dev"],
)
def test_unknown_path_is_404_json(client, auth, path):
    response = post(client, path, {"prompt": "a"}, auth)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_get_on_a_post_endpoint_is_405(client, auth):
    response = client.get("/engine/v1/flux/dev", headers=auth)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_unknown_job_is_404(client, auth):
    response = client.get("/engine/v1/job/doesnotexist", headers=auth)
    assert response.status_code == 404
    assert response.json()["detail"] == "Job not found."


def test_another_users_job_is_404(client, auth, engine_user):
    from tests.factories import UserFactory

    job = post(client, "/engine/v1/flux/dev", {"prompt": "a", "canvas": "Square"}, auth).json()
    _, other = ApiToken.issue(UserFactory(username="someone-else"))
    other_auth = {"Authorization": f"Bearer {other}"}
    assert client.get(f"/engine/v1/job/{job['id']}", headers=other_auth).status_code == 404
    assert client.post(f"/engine/v1/job/{job['id']}/cancel", headers=other_auth).status_code == 404
    assert client.get(f"/engine/v1/job/{job['id']}", headers=auth).status_code == 200


def test_active_job_cap_answers_429_with_retry_after(client, auth, settings):
    settings.ENGINE_MAX_ACTIVE_JOBS = 3
    for _ in range(3):
        assert (
            post(
                client, "/engine/v1/flux/dev", {"prompt": "a", "canvas": "Square"}, auth
            ).status_code
            == 200
        )
    response = post(client, "/engine/v1/flux/dev", {"prompt": "a", "canvas": "Square"}, auth)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "3 at once" in response.json()["detail"]
    # A finished job frees a place.
    EngineJob.objects.filter(pk=EngineJob.objects.first().pk).update(status=Status.SUCCEEDED)
    assert (
        post(client, "/engine/v1/flux/dev", {"prompt": "a", "canvas": "Square"}, auth).status_code
        == 200
    )


def test_per_token_cap_overrides_the_setting(client, auth, engine_token):
    from engine.models import hash_token

    ApiToken.objects.filter(key_hash=hash_token(engine_token)).update(max_active_jobs=1)
    assert (
        post(client, "/engine/v1/flux/dev", {"prompt": "a", "canvas": "Square"}, auth).status_code
        == 200
    )
    assert (
        post(client, "/engine/v1/flux/dev", {"prompt": "a", "canvas": "Square"}, auth).status_code
        == 429
    )


def test_cancel_ends_an_unfinished_job(client, auth):
    job = post(client, "/engine/v1/flux/dev", {"prompt": "a", "canvas": "Square"}, auth).json()
    response = client.post(f"/engine/v1/job/{job['id']}/cancel", headers=auth)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["completed_at"]
    # Cancelling again changes nothing.
    assert (
        client.post(f"/engine/job/{job['id']}/cancel", headers=auth).json()["status"] == "cancelled"
    )


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e.method == "POST"], ids=lambda e: e.slug
)
def test_every_post_endpoint_answers_both_path_styles(client, auth, endpoint):
    for prefix in ("/engine/v1/", "/engine/"):
        response = post(client, prefix + endpoint.slug, {}, auth)
        assert response.status_code == 422, (prefix, response.content)
        required = {f.name for f in endpoint.fields if f.required}
        assert required <= set(response.json()["errors"])


def test_idempotency_key_returns_the_same_job(client, auth):
    headers = {**auth, "Idempotency-Key": "studio-job-17"}
    body = {"prompt": "a", "canvas": "Square"}
    first = post(client, "/engine/v1/flux/dev", body, headers).json()
    again = post(client, "/engine/v1/flux/dev", body, headers).json()
    assert first["id"] == again["id"]
    assert EngineJob.objects.count() == 1
    other = post(client, "/engine/v1/flux/dev", body, {**auth, "Idempotency-Key": "studio-job-18"})
    assert other.json()["id"] != first["id"]


def test_idempotency_key_is_per_token(client, auth):
    from tests.factories import UserFactory

    _, other = ApiToken.issue(UserFactory(username="someone-else"))
    body = {"prompt": "a", "canvas": "Square"}
    first = post(client, "/engine/v1/flux/dev", body, {**auth, "Idempotency-Key": "k"}).json()
    second = post(
        client,
        "/engine/v1/flux/dev",
        body,
        {"Authorization": f"Bearer {other}", "Idempotency-Key": "k"},
    ).json()
    assert first["id"] != second["id"]


def test_idempotency_key_with_a_different_request_is_refused(client, auth):
    headers = {**auth, "Idempotency-Key": "studio-job-20"}
    post(client, "/engine/v1/flux/dev", {"prompt": "a", "canvas": "Square"}, headers)
    other = post(client, "/engine/v1/flux/dev", {"prompt": "b", "canvas": "Square"}, headers)
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    elsewhere = post(
        client, "/engine/v1/sd/3.5/large", {"prompt": "a", "canvas": "Square"}, headers
    )
    assert elsewhere.status_code == 422
    assert EngineJob.objects.count() == 1
