"""Helpers of the "made again" tests: images with a job and a recipe, made without the API."""

from __future__ import annotations

import io

from PIL import Image as PILImage

from gallery.models import Image
from gallery.services import create_image, store_job_result
from jobs.models import Job, Stage
from tests.conftest import wait_for_job_end


def png_bytes(size=(64, 48), colour=(200, 30, 30), **save_args) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "PNG", **save_args)
    return buffer.getvalue()


def made_image(
    owner,
    endpoint: str = "flux/dev",
    body: dict | None = None,
    *,
    seed: int | None = 1234,
    parent: Image | None = None,
    team=None,
    content: bytes | None = None,
) -> Image:
    """A stored result of a (finished) job, as the worker would leave it."""
    data = dict(body if body is not None else {"prompt": "a red fox", "canvas": "Square"})
    if seed is not None:
        data["seed"] = seed
    job = Job.objects.create(
        owner=owner,
        endpoint=endpoint,
        input=data,
        seed=seed,
        status=Stage.SUCCEEDED,
        parent_image=parent,
        team=team,
    )
    return store_job_result(job, content or png_bytes(), "image/png")


def uploaded_image(owner, **kwargs) -> Image:
    return create_image(owner, png_bytes(**kwargs))


def finished(job: Job, timeout: float = 60) -> Job:
    return wait_for_job_end(job, timeout)


def stored_bytes(image: Image) -> bytes:
    with image.file.open("rb") as handle:
        return handle.read()
