"""Which backend runs an endpoint: the built-in renderer, or diffusers with local weights.

Plain settings and paths: nothing here imports torch or diffusers, so the web process (and
every test that maps no endpoint) never loads them. ``engine.diffusion.pipelines`` does the
work, in the worker, for an endpoint that is mapped.
"""

from __future__ import annotations

import math
from fnmatch import fnmatchcase
from pathlib import Path

from django.conf import settings

from openjourney.catalog import Endpoint, Output, get_endpoint

BUILTIN = "builtin"
DIFFUSERS = "diffusers"

# Steps when ENGINE_DIFFUSERS_STEPS is 0: the distilled models' own count, else the usual.
FEW_STEP_ENDPOINTS = frozenset(
    {"flux/schnell", "flux/redux-schnell", "flux/schnell-lora", "sd/3.5/large-turbo"}
)
FEW_STEPS = 4
FLUX_STEPS = 28
DEFAULT_STEPS = 30


class BackendError(Exception):
    """A job the backend cannot run, with a sentence fit to show the user."""


def takes_diffusers(endpoint: Endpoint) -> bool:
    """Only raster text-to-image models can be mapped (not SVG, not the utilities)."""
    return endpoint.is_model and endpoint.output == Output.PNG


def diffusers_folder(slug: str) -> Path | None:
    """The local pipeline folder mapped to an endpoint, or None (the built-in renderer).

    ``ENGINE_DIFFUSERS_MODELS`` maps patterns over endpoint slugs (``flux/*``, ``sdxl/pony``)
    to folders; the first pattern that matches wins.
    """
    mapping = settings.ENGINE_DIFFUSERS_MODELS
    if not mapping or not takes_diffusers(get_endpoint(slug)):
        return None
    for pattern, folder in mapping.items():
        if fnmatchcase(slug, pattern):
            return Path(folder).expanduser()
    return None


def backend_for(slug: str) -> str:
    return DIFFUSERS if diffusers_folder(slug) is not None else BUILTIN


def folder_problem(folder: Path) -> str | None:
    """Why a folder cannot hold a diffusers pipeline, checked without loading it, or None."""
    if not folder.is_dir():
        return "The folder of this model's weights does not exist."
    if not (folder / "model_index.json").is_file():
        return (
            "The folder of this model's weights has no model_index.json "
            "(it must be a diffusers pipeline folder)."
        )
    return None


def steps_for(slug: str, params: dict) -> int:
    """Inference steps: ENGINE_DIFFUSERS_STEPS when set, else the model's usual count."""
    if settings.ENGINE_DIFFUSERS_STEPS > 0:
        return settings.ENGINE_DIFFUSERS_STEPS
    if slug in FEW_STEP_ENDPOINTS or params.get("model") == "lightning":
        return FEW_STEPS
    if slug.startswith("flux/"):
        return FLUX_STEPS
    return DEFAULT_STEPS


def generation_size(size: tuple[int, int], multiple: int, max_pixels: int = 0) -> tuple[int, int]:
    """The size to generate at, for an output of ``size``.

    Each side is a multiple the model accepts (rounded down, at least one multiple). With
    ``max_pixels`` (ENGINE_DIFFUSERS_MAX_PIXELS) the size is first scaled down, keeping the
    aspect ratio, to at most that many pixels; the image is then resized to ``size``.
    """
    width, height = size
    if max_pixels and width * height > max_pixels:
        scale = math.sqrt(max_pixels / (width * height))
        width, height = width * scale, height * scale
    return (
        max(multiple, int(width) // multiple * multiple),
        max(multiple, int(height) // multiple * multiple),
    )


def prompt_for(slug: str, params: dict) -> str:
    """The prompt the pipeline gets: Re-Craft's style is said in words, as a suffix."""
    prompt = str(params.get("prompt") or "")
    style = params.get("style")
    if slug == "re-craft/generative" and style:
        words = style.replace("/", ", ").replace("_", " ")
        return f"{prompt}, {words}"
    return prompt


def pipeline_states() -> dict:
    """What workers recorded of each folder they loaded (``PipelineState`` by folder)."""
    from engine.models import PipelineState

    return {state.folder: state for state in PipelineState.objects.all()}


def ping_status(endpoint: Endpoint, database_ok: bool, states: dict | None = None) -> dict:
    """What ``internal/ping`` says of one endpoint: its backend and whether it is ready.

    ``states`` is :func:`pipeline_states`, read once for every endpoint of a ping.
    """
    folder = diffusers_folder(endpoint.slug) if endpoint.method == "POST" else None
    if folder is None:
        return {"ready": database_ok, "backend": BUILTIN}
    status: dict = {"backend": DIFFUSERS}
    problem = folder_problem(folder)
    state = None
    if problem is None and database_ok:
        state = (pipeline_states() if states is None else states).get(str(folder))
    if problem is not None:
        status.update(weights="missing", error=problem)
    elif state is None:
        status["weights"] = "not loaded"  # loaded by a worker on its first job
    elif state.status == "failed":
        status.update(weights="failed", error=state.error)
    else:
        status.update(
            weights="loaded",
            pipeline=state.pipeline,
            device=state.device,
            load_seconds=state.load_seconds,
        )
    status["ready"] = database_ok and status["weights"] in ("loaded", "not loaded")
    return {"ready": status.pop("ready"), **status}
