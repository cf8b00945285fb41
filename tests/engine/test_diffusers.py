"""The diffusers backend on tiny random pipelines, built here: the real engine path.

Jobs are submitted over HTTP to the engine and run by the real Celery worker, which loads
the pipelines from temporary folders. The pipelines draw noise, not pictures, at a capped
size (ENGINE_DIFFUSERS_MAX_PIXELS) and 2 steps, so every job takes a fraction of a second.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.models import PipelineState
from openjourney.catalog import PONY_SCHEDULERS, get_endpoint
from tests.conftest import wait_for
from tests.engine.conftest import wait_for_job

torch = pytest.importorskip(
    "torch", reason="the diffusers backend needs torch: pip install torch==2.13.0 '.[diffusers]'"
)
pytest.importorskip("diffusers", reason="the diffusers backend needs: pip install '.[diffusers]'")

from engine.diffusion import pipelines, tiny  # noqa: E402
from engine.diffusion.schedulers import SCHEDULERS  # noqa: E402

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # diffusers' schedulers hand tensors to numpy, thousands of times a run: noise, not news.
    pytest.mark.filterwarnings("ignore:__array_:DeprecationWarning"),
]
STEPS = 2
MAX_PIXELS = 64 * 64


@pytest.fixture(scope="session")
def tiny_folders(tmp_path_factory) -> dict[str, Path]:
    """A tiny SD, SDXL and FLUX pipeline, each saved to a folder of its own."""
    root = tmp_path_factory.mktemp("pipelines")
    for kind in tiny.KINDS:
        tiny.build(kind, root / kind)
    return {kind: root / kind for kind in tiny.KINDS}


@pytest.fixture
def mapped(settings, tiny_folders) -> dict[str, Path]:
    """FLUX, SDXL (Pony too) and SD endpoints mapped to the tiny pipelines."""
    settings.ENGINE_DIFFUSERS_MODELS = {
        "flux/*": str(tiny_folders["flux"]),
        "sdxl/*": str(tiny_folders["sdxl"]),
        "sd/*": str(tiny_folders["sd"]),
    }
    settings.ENGINE_DIFFUSERS_STEPS = STEPS
    settings.ENGINE_DIFFUSERS_MAX_PIXELS = MAX_PIXELS
    settings.ENGINE_DIFFUSERS_DEVICE = "cpu"
    settings.ENGINE_DIFFUSERS_THREADS = 1  # the test's threads share the cores
    return tiny_folders


def submit(api, slug: str, body: dict) -> dict:
    response = api.post(f"/v1/{slug}", json=body)
    assert response.status_code == 200, response.text
    return wait_for_job(api, response.json()["id"])


def image_of(api, job: dict) -> Image.Image:
    assert job["status"] == "succeeded", job
    response = api.get(job["output"])
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def test_the_tiny_tokenizer_reads_the_hand_written_vocabulary():
    # transformers 5 ignores CLIPTokenizer(vocab_file=...) and gives 3 tokens: not this.
    tokenizer = tiny.clip_tokenizer()
    assert len(tokenizer) == 2 + 2 * 256
    ids = tokenizer("a red fox").input_ids
    assert ids[0] == tokenizer.bos_token_id
    assert ids[-1] == tokenizer.eos_token_id
    assert len(ids) > 5  # byte by byte, not one unknown token


@pytest.mark.parametrize(
    ("slug", "body", "size", "pipeline"),
    [
        ("flux/dev", {"canvas": "Portrait"}, (768, 1344), "FluxPipeline"),
        ("flux/schnell", {}, (1024, 1024), "FluxPipeline"),
        ("sdxl/generative", {"guidance": 5, "negative_prompt": "blur"}, (1024, 1024), None),
        ("sdxl/pony", {"canvas": "Landscape", "scheduler": "Euler a"}, (1344, 768), None),
        ("sd/1/generative", {"canvas": "Square"}, (512, 512), "StableDiffusionPipeline"),
    ],
)
def test_a_mapped_endpoint_runs_its_pipeline_at_the_canvas_size(
    api, celery_worker, mapped, slug, body, size, pipeline
):
    endpoint = get_endpoint(slug)
    body = {"prompt": "a red fox at dawn", **body}
    if endpoint.takes_seed:
        body["seed"] = 11
    job = submit(api, slug, body)
    image = image_of(api, job)
    assert image.size == size
    assert image.mode == "RGB"
    assert job["metrics"]["step"] == job["metrics"]["steps"] == STEPS
    state = PipelineState.objects.get(folder=str(mapped[slug.split("/")[0]]))
    assert state.status == "loaded"
    assert state.pipeline == (pipeline or "StableDiffusionXLPipeline")
    assert state.device == "cpu"


def test_the_same_seed_gives_the_same_image_and_another_seed_another(api, celery_worker, mapped):
    body = {"prompt": "blue ocean", "canvas": "Square", "seed": 5}
    first = api.get(submit(api, "sd/1/generative", body)["output"]).content
    again = api.get(submit(api, "sd/1/generative", body)["output"]).content
    other = api.get(submit(api, "sd/1/generative", {**body, "seed": 6})["output"]).content
    assert first == again
    assert first != other


def test_the_diffusers_image_is_not_the_builtin_renderers(api, celery_worker, mapped, settings):
    body = {"prompt": "a city", "canvas": "Square", "seed": 3}
    diffused = api.get(submit(api, "flux/dev", body)["output"]).content
    settings.ENGINE_DIFFUSERS_MODELS = {}
    builtin = api.get(submit(api, "flux/dev", body)["output"]).content
    assert diffused != builtin


def test_unmapped_endpoints_keep_the_builtin_renderer(api, celery_worker, settings, tiny_folders):
    from engine.render.png import encode_png
    from engine.render.text_to_image import render_image

    settings.ENGINE_DIFFUSERS_MODELS = {"sd/*": str(tiny_folders["sd"]), "*": "/nowhere"}
    body = {"prompt": "a lighthouse", "canvas": "Square", "seed": 9}
    job = submit(api, "flux/dev", body)
    # "*" reaches flux/dev, but "/nowhere" does not exist: so the job fails, while ...
    assert job["status"] == "failed"
    settings.ENGINE_DIFFUSERS_MODELS = {"sd/*": str(tiny_folders["sd"])}
    job = submit(api, "flux/dev", body)
    expected = encode_png(
        render_image("flux/dev", {**body, "seed": 9}, get_endpoint("flux/dev").size_for("Square"))
    )
    assert api.get(job["output"]).content == expected
    assert "step" not in job["metrics"]
    # ... the SVG generator and the utilities can never be mapped.
    settings.ENGINE_DIFFUSERS_MODELS = {"*": str(tiny_folders["sdxl"])}
    svg = submit(api, "re-craft/svg", {"prompt": "a fox", "canvas": "Square"})
    assert svg["status"] == "succeeded"
    assert api.get(svg["output"]).headers["content-type"] == "image/svg+xml"
    models = api.get("/v1/internal/ping").json()["models"]
    assert models["re-craft/svg"]["backend"] == "builtin"
    assert models["utils/upscale"]["backend"] == "builtin"
    assert models["flux/dev"]["backend"] == "diffusers"


def test_ping_reports_the_backend_and_whether_the_weights_loaded(
    api, celery_worker, mapped, settings, tmp_path
):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_index.json").write_text(
        json.dumps({"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "Nope"]})
    )
    settings.ENGINE_DIFFUSERS_MODELS = {
        "sd/1/generative": str(broken),
        "sd/3/generative": str(tmp_path / "missing"),
        **settings.ENGINE_DIFFUSERS_MODELS,
    }
    submit(api, "sdxl/pony", {"prompt": "x", "canvas": "Square", "seed": 1})

    failed = submit(api, "sd/1/generative", {"prompt": "x", "canvas": "Square", "seed": 1})
    assert failed["status"] == "failed"
    assert failed["error"].startswith("The model's weights could not be loaded")
    assert str(tmp_path) not in failed["error"]  # no server paths in the API
    missing = submit(api, "sd/3/generative", {"prompt": "x", "canvas": "Square", "seed": 1})
    assert missing["status"] == "failed"
    assert missing["error"] == "The folder of this model's weights does not exist."

    body = api.get("/v1/internal/ping").json()
    assert body["status"] == "ok"
    models = body["models"]
    assert models["sdxl/pony"] == {
        "ready": True,
        "backend": "diffusers",
        "weights": "loaded",
        "pipeline": "StableDiffusionXLPipeline",
        "device": "cpu",
        "load_seconds": models["sdxl/pony"]["load_seconds"],
    }
    assert models["sd/1/generative"]["ready"] is False
    assert models["sd/1/generative"]["weights"] == "failed"
    assert models["sd/1/generative"]["error"] == failed["error"]
    assert models["sd/3/generative"] == {
        "ready": False,
        "backend": "diffusers",
        "weights": "missing",
        "error": "The folder of this model's weights does not exist.",
    }
    assert models["flux/dev"]["backend"] == "diffusers"
    assert models["flux/dev"]["ready"] is True
    assert models["utils/clarify"] == {"ready": True, "backend": "builtin"}
    assert str(tmp_path) not in json.dumps(body)


def test_progress_shows_processing_with_the_step_count(
    api, celery_worker, mapped, settings, monkeypatch
):
    from engine import runner

    monkeypatch.setattr(runner, "PROGRESS_INTERVAL", 0)  # every step, not 4 a second
    settings.ENGINE_DIFFUSERS_STEPS = 12
    settings.ENGINE_DIFFUSERS_MAX_PIXELS = 256 * 256  # slow enough to be seen mid-way
    response = api.post(
        "/v1/sd/1/generative", json={"prompt": "slow", "canvas": "Square", "seed": 2}
    )
    job_id = response.json()["id"]
    seen = []
    while True:
        job = api.get(f"/v1/job/{job_id}").json()
        seen.append((job["status"], job["metrics"].get("step"), job["metrics"].get("steps")))
        if job["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.02)
    assert job["status"] == "succeeded"
    assert seen[-1] == ("succeeded", 12, 12)
    midway = [s for s in seen if s[0] == "processing" and s[2] == 12 and 0 < s[1] < 12]
    assert midway, seen
    steps = [s[1] for s in seen if s[1] is not None]
    assert steps == sorted(steps)


def test_cancelling_stops_the_pipeline(api, celery_worker, mapped, settings, monkeypatch):
    from engine import runner
    from engine.models import EngineJob

    monkeypatch.setattr(runner, "PROGRESS_INTERVAL", 0)
    settings.ENGINE_DIFFUSERS_STEPS = 200
    settings.ENGINE_DIFFUSERS_MAX_PIXELS = 256 * 256
    job_id = api.post(
        "/v1/sd/1/generative", json={"prompt": "long", "canvas": "Square", "seed": 2}
    ).json()["id"]
    wait_for(lambda: (EngineJob.objects.get(pk=job_id).step or 0) >= 2, timeout=30, interval=0.02)
    assert api.post(f"/v1/job/{job_id}/cancel").json()["status"] == "cancelled"

    # The worker sees the cancel at its next step and stops: the job's step stops moving.
    def settled() -> bool:
        before = EngineJob.objects.get(pk=job_id).step
        time.sleep(0.3)
        return EngineJob.objects.get(pk=job_id).step == before

    wait_for(settled, timeout=20)
    job = api.get(f"/v1/job/{job_id}").json()
    assert job["status"] == "cancelled"
    assert job["output"] is None
    assert job["metrics"]["step"] < 200


# --- in the worker's own functions: every scheduler, the request's fields ----------------


@pytest.fixture
def sdxl(mapped) -> Path:
    return mapped["sdxl"]


def generate(folder: Path, slug: str, **params) -> np.ndarray:
    params = {"prompt": "a red fox", "seed": 1, **params}
    image = pipelines.generate(folder, slug, params, (64, 64))
    return np.asarray(image)


@pytest.mark.parametrize("name", PONY_SCHEDULERS)
def test_every_pony_scheduler_constructs_and_runs(sdxl, name):
    import diffusers

    loaded = pipelines.get_pipeline(sdxl)
    class_name, options = SCHEDULERS[name]
    scheduler = pipelines.scheduler_for(loaded, name, seed=1)
    assert isinstance(scheduler, getattr(diffusers, class_name))
    for option, value in options.items():
        assert scheduler.config[option] == value
    # The model's own training schedule is kept; only the sampler changes.
    assert scheduler.config["beta_schedule"] == "scaled_linear"
    image = generate(sdxl, "sdxl/pony", scheduler=name)
    assert type(loaded.pipe.scheduler).__name__ == class_name
    assert image.shape == (64, 64, 3)


# The samplers that add noise at every step: the job's seed must decide that noise too.
STOCHASTIC = ("DPM++ 2M SDE Karras", "DPM2 a", "DPM SDE", "DDPM", "DPM++ SDE", "Euler a")


@pytest.mark.parametrize("name", STOCHASTIC)
def test_a_stochastic_scheduler_repeats_with_the_seed(sdxl, name):
    first = generate(sdxl, "sdxl/pony", scheduler=name, seed=3)
    assert np.array_equal(first, generate(sdxl, "sdxl/pony", scheduler=name, seed=3))
    assert not np.array_equal(first, generate(sdxl, "sdxl/pony", scheduler=name, seed=4))


def test_schedulers_do_not_change_a_flow_matching_pipeline(mapped):
    loaded = pipelines.get_pipeline(mapped["flux"])
    scheduler = pipelines.scheduler_for(loaded, "Euler a", seed=1)
    assert type(scheduler).__name__ == "FlowMatchEulerDiscreteScheduler"


def test_negative_prompt_and_guidance_reach_the_pipeline(sdxl):
    plain = generate(sdxl, "sdxl/generative", guidance=7.5)
    assert np.array_equal(plain, generate(sdxl, "sdxl/generative", guidance=7.5))
    assert not np.array_equal(plain, generate(sdxl, "sdxl/generative", guidance=2))
    assert not np.array_equal(
        plain, generate(sdxl, "sdxl/generative", guidance=7.5, negative_prompt="rain")
    )
    assert not np.array_equal(plain, generate(sdxl, "sdxl/generative", prompt="a blue fox"))


def test_sizes_are_multiples_the_model_accepts(mapped, settings, monkeypatch):
    settings.ENGINE_DIFFUSERS_MAX_PIXELS = 0
    flux = pipelines.get_pipeline(mapped["flux"])
    sd = pipelines.get_pipeline(mapped["sd"])
    assert flux.multiple == 16  # VAE 8 x the 2 x 2 packing
    assert sd.multiple == 8
    calls = []
    original = sd.pipe.__class__.__call__

    def spy(self, *args, **kwargs):
        calls.append((kwargs["width"], kwargs["height"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(sd.pipe), "__call__", spy)
    image = pipelines.generate(mapped["sd"], "sd/1/generative", {"prompt": "x"}, (100, 60))
    assert calls == [(96, 56)]
    assert image.size == (100, 60)
