"""Faults on purpose, from the admin's Fault rows and from the ENGINE_FAULTS setting."""

from __future__ import annotations

import time

import pytest

from engine.models import ApiToken, Fault
from tests.engine.conftest import wait_for_job
from tests.factories import UserFactory

BODY = {"prompt": "a", "canvas": "Square", "seed": 1}


@pytest.fixture
def auth(engine_token):
    return {"Authorization": f"Bearer {engine_token}"}


def post(client, auth, path="/engine/v1/flux/dev"):
    return client.post(path, BODY, content_type="application/json", headers=auth)


@pytest.fixture
def no_worker(monkeypatch):
    monkeypatch.setattr("engine.tasks.run_job.delay", lambda job_id: None)


@pytest.mark.django_db
def test_rate_limit_fault_from_settings(client, auth, settings, no_worker):
    settings.ENGINE_FAULTS = [{"kind": "rate_limit", "path": "flux/*", "retry_after": 7}]
    response = post(client, auth)
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    # Another family is untouched.
    assert post(client, auth, "/engine/v1/sd/3.5/large").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_fault(client, auth, status, no_worker):
    Fault.objects.create(kind="server_error", path="flux/dev", status_code=status)
    response = post(client, auth)
    assert response.status_code == status
    assert "fault" in response.json()["detail"]


@pytest.mark.django_db
def test_fault_fires_a_set_number_of_times(client, auth, no_worker):
    Fault.objects.create(kind="server_error", path="*", status_code=502, remaining=2)
    assert [post(client, auth).status_code for _ in range(3)] == [502, 502, 200]


@pytest.mark.django_db
def test_fault_for_one_token_only(client, auth, no_worker):
    _, other_raw = ApiToken.issue(UserFactory(username="other"))
    other = ApiToken.objects.for_bearer(other_raw)
    Fault.objects.create(kind="rate_limit", path="*", token=other, retry_after=3)
    assert post(client, auth).status_code == 200
    assert post(client, {"Authorization": f"Bearer {other_raw}"}).status_code == 429


@pytest.mark.django_db
def test_method_restricted_fault(client, auth, no_worker):
    Fault.objects.create(kind="server_error", path="job", method="GET", status_code=503)
    job = post(client, auth).json()
    assert client.get(f"/engine/v1/job/{job['id']}", headers=auth).status_code == 503


@pytest.mark.django_db
def test_malformed_json_fault(client, auth, no_worker):
    Fault.objects.create(kind="malformed_json", path="flux/dev")
    response = post(client, auth)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()


@pytest.mark.django_db
def test_slow_fault_delays_the_answer(client, auth, no_worker):
    Fault.objects.create(kind="slow", path="flux/dev", delay_ms=300)
    started = time.monotonic()
    assert post(client, auth).status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.django_db
def test_disabled_fault_does_nothing(client, auth, no_worker):
    Fault.objects.create(kind="server_error", path="*", enabled=False)
    assert post(client, auth).status_code == 200


@pytest.mark.django_db
def test_vanishing_job_answers_404(client, auth, no_worker):
    Fault.objects.create(kind="job_vanishes", path="flux/dev")
    job = post(client, auth).json()
    assert client.get(f"/engine/v1/job/{job['id']}", headers=auth).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_failing_job_fault(api, celery_worker):
    Fault.objects.create(kind="job_fails", path="flux/dev")
    job_id = api.post("/v1/flux/dev", json=BODY).json()["id"]
    job = wait_for_job(api, job_id)
    assert job["status"] == "failed"
    assert job["error"] == "The job failed on purpose (fault switch)."


@pytest.mark.django_db(transaction=True)
def test_hanging_job_stays_processing(api, celery_worker):
    Fault.objects.create(kind="job_hangs", path="flux/dev")
    job_id = api.post("/v1/flux/dev", json=BODY).json()["id"]
    deadline = time.monotonic() + 10
    while api.get(f"/v1/job/{job_id}").json()["status"] != "processing":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    assert api.get(f"/v1/job/{job_id}").json()["status"] == "processing"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("kind", "status"), [("output_error", 503), ("output_not_image", 200)])
def test_output_faults(api, celery_worker, kind, status):
    job = wait_for_job(api, api.post("/v1/flux/schnell", json={"prompt": "a"}).json()["id"])
    Fault.objects.create(kind=kind, path="files")
    response = api.get(job["output"])
    assert response.status_code == status
    if status == 200:
        assert not response.content.startswith(b"\x89PNG")


@pytest.mark.django_db(transaction=True)
def test_slow_job_finishes_after_its_delay_without_holding_a_worker(api, celery_worker):
    Fault.objects.create(kind="job_slow", path="flux/dev", delay_ms=1500)
    started = time.monotonic()
    slow_id = api.post("/v1/flux/dev", json=BODY).json()["id"]
    # Meanwhile other jobs run: the slow one holds no worker.
    quick = wait_for_job(api, api.post("/v1/flux/schnell", json={"prompt": "a"}).json()["id"])
    assert quick["status"] == "succeeded"
    assert api.get(f"/v1/job/{slow_id}").json()["status"] == "processing"
    slow = wait_for_job(api, slow_id)
    assert slow["status"] == "succeeded"
    assert time.monotonic() - started >= 1.5
