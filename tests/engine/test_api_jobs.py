"""Jobs run by a real Celery worker: every model endpoint, sizes, determinism, life cycle."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from engine.models import EngineJob
from openjourney.catalog import Output, model_endpoints
from tests.engine.conftest import wait_for_job

pytestmark = pytest.mark.django_db(transaction=True)


def body_for(endpoint, **extra) -> dict:
    body = {"prompt": "a red fox in a snowy forest at dawn"}
    if endpoint.field("canvas") is not None and endpoint.field("canvas").required:
        body["canvas"] = endpoint.canvases[0]
    if endpoint.takes_seed:
        body["seed"] = 1234
    body.update(extra)
    return body


def run(api, slug: str, body: dict) -> dict:
    response = api.post(f"/v1/{slug}", json=body)
    assert response.status_code == 200, response.text
    job = wait_for_job(api, response.json()["id"])
    assert job["status"] == "succeeded", job
    return job


@pytest.mark.parametrize("endpoint", model_endpoints(), ids=lambda e: e.slug)
def test_every_model_endpoint_succeeds_with_a_file_of_the_right_size_and_type(
    api, celery_worker, endpoint
):
    job = run(api, endpoint.slug, body_for(endpoint))
    response = api.get(job["output"])
    assert response.status_code == 200
    width, height = endpoint.size_for(job["input"].get("canvas"))
    if endpoint.output == Output.SVG:
        assert response.headers["content-type"] == "image/svg+xml"
        root = ET.fromstring(response.content)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.get("viewBox") == f"0 0 {width} {height}"
    else:
        assert response.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "PNG"
        assert image.size == (width, height)


@pytest.mark.parametrize(
    ("slug", "canvas", "size"),
    [
        ("flux/1.1/pro-ultra", "Wide Landscape", (3072, 1280)),
        ("flux/1.1/pro", "Wide Landscape", (1536, 640)),
        ("flux/dev", "Portrait", (768, 1344)),
        ("sd/1/generative", "Landscape", (672, 384)),
    ],
)
def test_canvas_gives_the_contracts_size(api, celery_worker, slug, canvas, size):
    job = run(api, slug, {"prompt": "a city", "canvas": canvas, "seed": 1})
    assert Image.open(io.BytesIO(api.get(job["output"]).content)).size == size


def test_sdxl_generative_without_canvas_is_square(api, celery_worker):
    job = run(api, "sdxl/generative", {"prompt": "a city", "seed": 3})
    assert Image.open(io.BytesIO(api.get(job["output"]).content)).size == (1024, 1024)


def test_same_input_gives_byte_identical_output_and_another_seed_differs(api, celery_worker):
    body = {"prompt": "blue ocean under a golden sky", "canvas": "Square", "seed": 77}
    first = api.get(run(api, "flux/dev", body)["output"]).content
    again = api.get(run(api, "flux/dev", body)["output"]).content
    other = api.get(run(api, "flux/dev", {**body, "seed": 78})["output"]).content
    assert first == again
    a = np.asarray(Image.open(io.BytesIO(first)).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(io.BytesIO(other)).convert("RGB"), dtype=np.int16)
    assert np.abs(a - b).mean() > 10


def test_job_moves_through_its_statuses_with_real_timestamps(api, celery_worker):
    job = run(api, "flux/schnell", {"prompt": "a cat"})
    created = datetime.fromisoformat(job["created_at"])
    started = datetime.fromisoformat(job["started_at"])
    completed = datetime.fromisoformat(job["completed_at"])
    assert created <= started <= completed
    assert job["metrics"]["predict_time"] == pytest.approx(
        (completed - started).total_seconds(), abs=0.01
    )
    assert job["output"].startswith("http://")
    assert EngineJob.objects.get(pk=job["id"]).attempts == 1


def test_output_names_are_unguessable_and_files_have_their_type(api, celery_worker):
    job = run(api, "sdxl/emoji", {"prompt": "a happy sun"})
    name = job["output"].rsplit("/", 1)[-1]
    assert len(name.split(".")[0]) >= 32
    response = api.get(job["output"])
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    image = Image.open(io.BytesIO(response.content))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # transparent background
    assert api.get(job["output"].replace(name, "x" + name)).status_code == 404


def test_cancelled_job_keeps_no_output(api, celery_worker, settings):
    from engine.models import Fault

    Fault.objects.create(kind="job_hangs", path="flux/dev")
    job_id = api.post("/v1/flux/dev", json={"prompt": "a", "canvas": "Square"}).json()["id"]
    cancelled = api.post(f"/v1/job/{job_id}/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["output"] is None
    assert wait_for_job(api, job_id)["status"] == "cancelled"


def test_a_job_run_twice_stores_one_result(api, celery_worker):
    from engine.tasks import run_job

    job = run(api, "flux/dev", {"prompt": "a", "canvas": "Square", "seed": 9})
    before = EngineJob.objects.get(pk=job["id"])
    run_job(job["id"])  # a redelivered message: the job has ended, nothing changes
    after = EngineJob.objects.get(pk=job["id"])
    assert (after.output_file, after.completed_at, after.attempts) == (
        before.output_file,
        before.completed_at,
        before.attempts,
    )


def test_stale_job_is_handed_to_a_worker_again(api, celery_worker, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from engine.tasks import requeue_stale_jobs

    monkeypatch.setattr("engine.tasks.run_job.delay", lambda job_id: None)
    job_id = api.post("/v1/flux/dev", json={"prompt": "a", "canvas": "Square"}).json()["id"]
    EngineJob.objects.filter(pk=job_id).update(updated_at=timezone.now() - timedelta(hours=1))
    monkeypatch.undo()
    assert requeue_stale_jobs() == 1
    assert wait_for_job(api, job_id)["status"] == "succeeded"
