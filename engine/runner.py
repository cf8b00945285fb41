"""What a job really does: render, process, or describe; returns the bytes to store."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone

from engine.backends import diffusers_folder
from engine.models import ACTIVE_STATUSES, EngineJob
from openjourney.catalog import Output, get_endpoint

# Progress is written at most this often (seconds), and always at the last step.
PROGRESS_INTERVAL = 0.25


@dataclass(frozen=True)
class RunResult:
    content: bytes = b""
    extension: str = ""
    text: str = ""


def run(job: EngineJob, user_id: int) -> RunResult:
    """Do the job's work. Raises UtilityError (with a readable message) for bad input."""
    endpoint = get_endpoint(job.endpoint)
    params = dict(job.input)
    params["seed"] = job.seed if job.seed is not None else 0

    if endpoint.is_model and endpoint.output == Output.SVG:
        from engine.render.svg import render_svg

        svg = render_svg(params, endpoint.size_for(params.get("canvas")))
        return RunResult(content=svg.encode(), extension="svg")
    if endpoint.is_model:
        from engine.render.png import encode_png
        from engine.render.text_to_image import render_image

        folder = diffusers_folder(endpoint.slug)
        if folder is not None:
            image = _run_diffusers(job, folder, params, endpoint.size_for(params.get("canvas")))
            return RunResult(content=encode_png(image), extension="png")

        image = render_image(endpoint.slug, params, endpoint.size_for(params.get("canvas")))
        return RunResult(content=encode_png(image), extension="png")
    return _run_utility(endpoint.slug, params, user_id)


def _run_diffusers(job: EngineJob, folder: Path, params: dict, size: tuple[int, int]) -> Any:
    # Imported here: torch loads only in a worker that runs a mapped endpoint.
    from engine.diffusion.pipelines import generate

    return generate(folder, job.endpoint, params, size, on_step=progress_writer(job.pk))


def progress_writer(job_id: str) -> Callable[[int, int], bool]:
    """A step callback that records ``step``/``steps`` on the job, throttled.

    It returns False once the job has ended (cancelled), which stops the pipeline. Each
    write also moves ``updated_at`` on, so a long job is not mistaken for a stale one.
    """
    last = 0.0

    def on_step(step: int, steps: int) -> bool:
        nonlocal last
        now = time.monotonic()
        if step < steps and now - last < PROGRESS_INTERVAL:
            return True
        last = now
        written = EngineJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).update(
            step=step, steps=steps, updated_at=timezone.now()
        )
        return bool(written)

    return on_step


def _run_utility(slug: str, params: dict, user_id: int) -> RunResult:
    from engine.fetch import fetch_image
    from engine.render.png import encode_png
    from engine.render.utilities.clarify import clarify
    from engine.render.utilities.errors import UtilityError
    from engine.render.utilities.face_restore import face_restore
    from engine.render.utilities.face_swap import face_swap
    from engine.render.utilities.prompt_extract import extract_prompt
    from engine.render.utilities.remove_background import remove_background
    from engine.render.utilities.upscale import upscale

    if slug == "utils/faceswap":
        source = fetch_image(params["source"], user_id)
        target = fetch_image(params["target"], user_id)
        return RunResult(encode_png(face_swap(source, target)), "png")
    image = fetch_image(params["image"], user_id)
    if slug == "utils/prompt-extract":
        return RunResult(text=extract_prompt(image))
    if slug == "utils/clarify":
        result = clarify(image, params.get("type") or "Image Denoising")
    elif slug == "utils/facerestore":
        result = face_restore(image)
    elif slug == "utils/remove-background":
        result = remove_background(image)
    elif slug == "utils/upscale":
        result = upscale(image, params.get("model") or "Real-ESRGAN")
    else:
        raise UtilityError(f"The engine has no runner for {slug}.")
    return RunResult(encode_png(result), "png")
