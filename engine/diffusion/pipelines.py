"""Running a text-to-image endpoint through a local diffusers pipeline.

The worker's side of the diffusers backend, and the only module of the engine that imports
torch at the top: ``engine.runner`` imports it only for an endpoint that is mapped to a
folder (``engine.backends``). A pipeline is loaded on its first job, once per worker
process, and kept; jobs on the same pipeline take turns (one lock per pipeline).
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Weights come from local folders only: never let a library reach for a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from django.conf import settings
from PIL import Image

from engine.backends import (
    BackendError,
    folder_problem,
    generation_size,
    prompt_for,
    steps_for,
)
from engine.diffusion.schedulers import SCHEDULERS, build_scheduler

logger = logging.getLogger(__name__)

# A folder that failed to load is tried again after this long (the operator may fix it).
RETRY_FAILED_AFTER = 30.0

# Called as (step, steps) while the pipeline runs; False asks it to stop (a cancelled job).
StepCallback = Callable[[int, int], bool]


class JobStopped(BackendError):
    """The job ended (was cancelled) while its pipeline ran."""


@dataclass
class LoadedPipeline:
    pipe: Any
    pipeline: str  # the class name, e.g. "FluxPipeline"
    device: str
    multiple: int  # width and height must be multiples of this
    scheduler_class: type
    scheduler_config: Any
    load_seconds: float
    call_parameters: frozenset[str]
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def flow_matching(self) -> bool:
        """FLUX and SD 3 sample with a flow-matching scheduler; the Pony table does not apply."""
        return "FlowMatch" in self.scheduler_class.__name__


_loaded: dict[str, LoadedPipeline] = {}
_failed: dict[str, tuple[str, float]] = {}
# One load at a time in a process: two at once would hold two copies of the weights.
_load_lock = threading.Lock()


def pick_device(setting: str = "auto") -> str:
    """``auto``: CUDA, else Apple's MPS, else the CPU; any other value is used as given."""
    if setting and setting != "auto":
        return setting
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(setting: str, device: str) -> torch.dtype:
    """``auto``: bfloat16 on a GPU that has it, float16 on other GPUs, float32 on the CPU."""
    if setting and setting != "auto":
        return getattr(torch, setting)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.startswith("mps"):
        return torch.float16
    return torch.float32


def get_pipeline(folder: Path) -> LoadedPipeline:
    """The pipeline in ``folder``, loaded on first use and kept. Raises BackendError."""
    key = str(folder)
    loaded = _loaded.get(key)
    if loaded is not None:
        _record(folder, loaded=loaded)  # kept in step with the database, row lost or not
        return loaded
    with _load_lock:
        loaded = _loaded.get(key)
        if loaded is not None:
            return loaded
        failed = _failed.get(key)
        if failed is not None and time.monotonic() - failed[1] < RETRY_FAILED_AFTER:
            raise BackendError(failed[0])
        try:
            loaded = _load(folder)
        except Exception as exc:
            if isinstance(exc, BackendError):
                message = str(exc)
            else:
                logger.exception("engine: could not load the pipeline in %s", folder)
                message = (
                    f"The model's weights could not be loaded ({type(exc).__name__}); "
                    "the worker's log has the details."
                )
            _failed[key] = (message, time.monotonic())
            _record(folder, error=message)
            raise BackendError(message) from exc
        _failed.pop(key, None)
        _loaded[key] = loaded
        _record(folder, loaded=loaded)
        logger.info(
            "engine: loaded %s from %s on %s in %.2f s",
            loaded.pipeline,
            folder,
            loaded.device,
            loaded.load_seconds,
        )
        return loaded


def _load(folder: Path) -> LoadedPipeline:
    problem = folder_problem(folder)
    if problem is not None:
        raise BackendError(problem)
    from diffusers import DiffusionPipeline
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    device = pick_device(settings.ENGINE_DIFFUSERS_DEVICE)
    dtype = pick_dtype(settings.ENGINE_DIFFUSERS_DTYPE, device)
    started = time.perf_counter()
    pipe = DiffusionPipeline.from_pretrained(str(folder), dtype=dtype, local_files_only=True)
    parameters = frozenset(inspect.signature(pipe.__call__).parameters)
    if (
        not {"prompt", "width", "height", "generator"} <= parameters
        or getattr(pipe, "vae", None) is None
    ):
        raise BackendError(
            f"The folder holds a {type(pipe).__name__}, not a text-to-image pipeline."
        )
    if settings.ENGINE_DIFFUSERS_CPU_OFFLOAD and device != "cpu":
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    scale = int(getattr(pipe, "vae_scale_factor", 8) or 8)
    # Transformer pipelines (FLUX, SD 3) pack latents in 2 x 2 patches.
    multiple = scale * 2 if getattr(pipe, "transformer", None) is not None else scale
    return LoadedPipeline(
        pipe=pipe,
        pipeline=type(pipe).__name__,
        device=device,
        multiple=multiple,
        scheduler_class=type(pipe.scheduler),
        scheduler_config=pipe.scheduler.config,
        load_seconds=round(time.perf_counter() - started, 3),
        call_parameters=parameters,
    )


def _record(folder: Path, loaded: LoadedPipeline | None = None, error: str = "") -> None:
    """Tell internal/ping (served by the web process) how loading went."""
    from engine.models import PipelineState

    values = {"status": PipelineState.Status.FAILED, "error": error}
    if loaded is not None:
        values = {
            "status": PipelineState.Status.LOADED,
            "error": "",
            "pipeline": loaded.pipeline,
            "device": loaded.device,
            "load_seconds": loaded.load_seconds,
        }
    try:
        if not PipelineState.objects.filter(folder=str(folder)).update(**values):
            PipelineState.objects.get_or_create(folder=str(folder), defaults=values)
    except Exception:  # the job matters more than the health report
        logger.warning("engine: could not record the state of %s", folder, exc_info=True)


def scheduler_for(loaded: LoadedPipeline, name: str | None, seed: int) -> Any:
    """A fresh scheduler for one job: the Pony table's, or the pipeline's own."""
    if not name or loaded.flow_matching:
        # Flow-matching pipelines keep their own sampler: the table's are for SD/SDXL.
        return loaded.scheduler_class.from_config(loaded.scheduler_config)
    if name not in SCHEDULERS:
        raise BackendError(f"The engine has no scheduler called {name!r}.")
    scheduler = build_scheduler(name, loaded.scheduler_config)
    if hasattr(scheduler.config, "noise_sampler_seed"):
        # DPM++ SDE draws its Brownian noise from a seed of its own: the job's keeps it
        # reproducible.
        scheduler = type(scheduler).from_config(scheduler.config, noise_sampler_seed=seed)
    return scheduler


def generate(
    folder: Path,
    slug: str,
    params: dict,
    size: tuple[int, int],
    on_step: StepCallback | None = None,
) -> Image.Image:
    """An image of exactly ``size`` for the request ``params`` (with its ``seed``)."""
    if settings.ENGINE_DIFFUSERS_THREADS > 0:
        torch.set_num_threads(settings.ENGINE_DIFFUSERS_THREADS)
    loaded = get_pipeline(folder)
    seed = int(params.get("seed") or 0)
    steps = steps_for(slug, params)
    width, height = generation_size(size, loaded.multiple, settings.ENGINE_DIFFUSERS_MAX_PIXELS)
    arguments: dict[str, Any] = {
        "prompt": prompt_for(slug, params),
        "width": width,
        "height": height,
        "num_inference_steps": steps,
        # On the CPU whatever the device: the same seed gives the same noise everywhere.
        "generator": torch.Generator("cpu").manual_seed(seed),
    }
    if params.get("negative_prompt"):
        arguments["negative_prompt"] = params["negative_prompt"]
    if params.get("guidance") is not None:
        arguments["guidance_scale"] = float(params["guidance"])
    stopped = False

    def step_end(pipe: Any, index: int, timestep: Any, tensors: dict) -> dict:
        nonlocal stopped
        # Heun and DPM2 call back twice a step, PNDM once more at the start: report the
        # steps asked for, in proportion to the callbacks made.
        total = max(int(getattr(pipe, "num_timesteps", 0) or steps), 1)
        done = min(steps, (index + 1) * steps // total)
        if on_step is not None and not on_step(done, steps):
            stopped = True
            pipe._interrupt = True  # the pipelines' own way to stop early
        return tensors

    if on_step is not None and "callback_on_step_end" in loaded.call_parameters:
        arguments["callback_on_step_end"] = step_end
    arguments = {k: v for k, v in arguments.items() if k in loaded.call_parameters}
    with loaded.lock:
        loaded.pipe.scheduler = scheduler_for(loaded, params.get("scheduler"), seed)
        try:
            result = loaded.pipe(**arguments)
        except torch.cuda.OutOfMemoryError as exc:
            raise BackendError(
                f"The model ran out of memory on {loaded.device} at {width} × {height}."
            ) from exc
    if stopped:
        raise JobStopped("The job ended while the model ran.")
    image = result.images[0].convert("RGB")
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def loaded_folders() -> dict[str, str]:
    """The folders this process has loaded, and their pipeline's class (for the bench)."""
    return {folder: loaded.pipeline for folder, loaded in _loaded.items()}


def forget(folder: Path | None = None) -> None:
    """Drop one kept pipeline (or all): the next job loads it again."""
    with _load_lock:
        if folder is None:
            _loaded.clear()
            _failed.clear()
        else:
            _loaded.pop(str(folder), None)
            _failed.pop(str(folder), None)
