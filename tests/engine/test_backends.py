"""Which backend runs an endpoint, and what it is told: no torch needed for any of this."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from engine import backends
from engine.diffusion.schedulers import SCHEDULERS
from openjourney.catalog import CANVAS_SIZES, PONY_SCHEDULERS, model_endpoints
from studio import env

BASE_DIR = Path(__file__).resolve().parents[2]


def test_patterns_map_raster_models_first_match_wins(settings, tmp_path):
    settings.ENGINE_DIFFUSERS_MODELS = {
        "sdxl/pony": str(tmp_path / "pony"),
        "sdxl/*": str(tmp_path / "sdxl"),
        "*": str(tmp_path / "any"),
    }
    assert backends.diffusers_folder("sdxl/pony") == tmp_path / "pony"
    assert backends.diffusers_folder("sdxl/generative") == tmp_path / "sdxl"
    assert backends.diffusers_folder("flux/dev") == tmp_path / "any"
    # Never the SVG generator nor a utility, whatever the pattern.
    assert backends.diffusers_folder("re-craft/svg") is None
    assert backends.diffusers_folder("utils/upscale") is None
    assert backends.backend_for("utils/upscale") == "builtin"
    settings.ENGINE_DIFFUSERS_MODELS = {}
    assert all(backends.backend_for(e.slug) == "builtin" for e in model_endpoints())


@pytest.mark.parametrize("canvas", CANVAS_SIZES)
@pytest.mark.parametrize("multiple", [8, 16])
def test_every_canvas_is_generated_at_its_own_size(canvas, multiple):
    # Every size of the contract is a multiple of 16: nothing is resized by default.
    for endpoint in model_endpoints():
        if canvas in endpoint.canvases:
            size = endpoint.size_for(canvas)
            assert backends.generation_size(size, multiple) == size


def test_a_pixel_cap_scales_down_keeping_the_shape_and_the_multiples():
    assert backends.generation_size((1024, 1024), 8, 64 * 64) == (64, 64)
    assert backends.generation_size((768, 1344), 16, 64 * 64) == (48, 80)
    assert backends.generation_size((3072, 1280), 16, 64 * 64) == (96, 32)
    assert backends.generation_size((100, 60), 8) == (96, 56)
    assert backends.generation_size((4, 4), 16) == (16, 16)


def test_steps_default_to_the_models_usual_count_unless_set(settings):
    settings.ENGINE_DIFFUSERS_STEPS = 0
    assert backends.steps_for("flux/schnell", {}) == 4
    assert backends.steps_for("sd/3.5/large-turbo", {}) == 4
    assert backends.steps_for("sdxl/generative", {"model": "lightning"}) == 4
    assert backends.steps_for("flux/dev", {}) == 28
    assert backends.steps_for("sdxl/pony", {}) == 30
    settings.ENGINE_DIFFUSERS_STEPS = 6
    assert backends.steps_for("flux/schnell", {}) == 6


def test_recraft_style_is_said_in_the_prompt():
    params = {"prompt": "a fox", "style": "digital_illustration/pixel_art"}
    assert backends.prompt_for("re-craft/generative", params) == (
        "a fox, digital illustration, pixel art"
    )
    assert backends.prompt_for("flux/dev", {"prompt": "a fox"}) == "a fox"


def test_the_scheduler_table_is_the_catalogs_twenty_names():
    assert list(SCHEDULERS) == list(PONY_SCHEDULERS)
    assert SCHEDULERS["DPM++ 2M SDE Karras"] == (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True},
    )
    assert SCHEDULERS["Euler a"] == ("EulerAncestralDiscreteScheduler", {})


@pytest.mark.django_db
def test_ping_checks_a_mapped_folder_without_loading_it(client, settings, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    ready = tmp_path / "ready"
    ready.mkdir()
    (ready / "model_index.json").write_text("{}")
    settings.ENGINE_DIFFUSERS_MODELS = {
        "flux/dev": str(tmp_path / "missing"),
        "flux/pro": str(empty),
        "sd/*": str(ready),
    }
    models = client.get("/engine/v1/internal/ping").json()["models"]
    assert models["flux/dev"] == {
        "ready": False,
        "backend": "diffusers",
        "weights": "missing",
        "error": "The folder of this model's weights does not exist.",
    }
    assert models["flux/pro"]["weights"] == "missing"
    assert "model_index.json" in models["flux/pro"]["error"]
    assert models["sd/1/generative"] == {
        "ready": True,
        "backend": "diffusers",
        "weights": "not loaded",
    }
    assert models["flux/schnell"] == {"ready": True, "backend": "builtin"}


def test_settings_read_the_mapping_and_the_family_folders(monkeypatch):
    monkeypatch.setenv("ENGINE_DIFFUSERS_MODELS", '{"sdxl/pony": "/m/pony"}')
    assert env.env_mapping("ENGINE_DIFFUSERS_MODELS") == {"sdxl/pony": "/m/pony"}
    monkeypatch.setenv("ENGINE_DIFFUSERS_MODELS", '["flux/*"]')
    with pytest.raises(ImproperlyConfigured, match="JSON object of strings"):
        env.env_mapping("ENGINE_DIFFUSERS_MODELS")
    monkeypatch.setenv("ENGINE_DIFFUSERS_DTYPE", "float8")
    with pytest.raises(ImproperlyConfigured, match="not one of"):
        env.env_choice("ENGINE_DIFFUSERS_DTYPE", "auto", ("auto", "float16"))


@pytest.mark.process
def test_django_and_the_engine_never_import_torch(tmp_path):
    """The web process serves mapped endpoints (submit, ping) without torch or diffusers."""
    (tmp_path / "flux").mkdir()
    (tmp_path / "flux" / "model_index.json").write_text("{}")
    code = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
call_command("migrate", verbosity=0)
import engine.views, engine.tasks, engine.runner, engine.services, engine.backends
from django.test import Client
models = Client(HTTP_HOST="127.0.0.1").get("/engine/v1/internal/ping").json()["models"]
assert models["flux/dev"]["backend"] == "diffusers", models["flux/dev"]
heavy = sorted(m for m in ("torch", "diffusers", "transformers") if m in sys.modules)
print(json.dumps(heavy))
"""
    clean = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    clean.update(
        DJANGO_SETTINGS_MODULE="studio.settings",
        STUDIO_DATA_DIR=str(tmp_path),
        ENGINE_DIFFUSERS_FLUX=str(tmp_path / "flux"),
        ENGINE_DIFFUSERS_SD=str(tmp_path / "sd"),
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
