"""A job's recipe in its stored result (gallery/metadata.py): the job's input as the file
carries it, gallery images named by id, never by signed link; the checksum of the stored
bytes."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image as PILImage

from gallery.links import signed_media_url
from gallery.recipes import A1111_KEY, content_checksum, read_recipe, strip_recipe
from gallery.services import InvalidResult, store_job_result
from jobs.models import Job, Stage
from openjourney.pngtext import png_text
from tests.factories import ImageFactory, JobResultFactory, png_bytes, stored_bytes


@pytest.mark.django_db
def test_stored_result_carries_its_recipe_and_the_checksum_is_of_the_stored_bytes(owner):
    sent = png_bytes((64, 48), compress_level=1)
    image = JobResultFactory(
        owner=owner,
        endpoint="sdxl/generative",
        body={"prompt": "a fox", "negative_prompt": "rain", "canvas": "Square", "guidance": 9.0},
        seed=77,
        content=sent,
    )
    stored = stored_bytes(image)
    assert image.checksum == hashlib.sha256(stored).hexdigest()
    assert image.size_bytes == len(stored)
    assert stored != sent and strip_recipe(stored) == sent
    assert content_checksum(stored) == hashlib.sha256(sent).hexdigest()

    recipe = read_recipe(stored)
    assert recipe.endpoint == "sdxl/generative"
    assert (recipe.prompt, recipe.negative_prompt, recipe.seed) == ("a fox", "rain", 77)
    assert recipe.params == {"canvas": "Square", "guidance": 9.0}
    assert recipe.lineage == {"image": None, "parent": None, "job": image.job_id}
    assert "CFG scale: 9, Seed: 77, Size: 64x48" in png_text(stored)[A1111_KEY]
    # The thumbnail was made from the same pixels.
    assert image.width == 64 and image.height == 48 and image.thumbnail


@pytest.mark.django_db
def test_utility_result_names_its_input_by_gallery_id_never_by_signed_link(owner):
    source = ImageFactory(owner=owner, upload=True)
    job = Job.objects.create(
        owner=owner,
        endpoint="utils/upscale",
        input={"image": signed_media_url(source.file.name, owner.pk), "model": "Real-ESRGAN"},
        status=Stage.SUCCEEDED,
        parent_image=source,
    )
    image = store_job_result(job, png_bytes(), "image/png")
    stored = stored_bytes(image)
    assert b"/media/signed/" not in stored
    recipe = read_recipe(stored)
    assert recipe.params == {"image": f"gallery:{source.pk}", "model": "Real-ESRGAN"}
    assert recipe.lineage["parent"] == source.pk
    assert image.parent == source


@pytest.mark.django_db
def test_non_png_results_and_uploads_are_stored_as_sent(owner):
    buffer = io.BytesIO()
    PILImage.new("RGB", (20, 20), (1, 2, 3)).save(buffer, "JPEG")
    job = Job.objects.create(owner=owner, endpoint="flux/dev", input={"prompt": "a"}, seed=1)
    image = store_job_result(job, buffer.getvalue(), "image/jpeg")
    assert stored_bytes(image) == buffer.getvalue()

    upload = ImageFactory(owner=owner, upload=True)
    assert read_recipe(stored_bytes(upload)) is None


@pytest.mark.django_db
def test_a_broken_png_result_is_still_refused_clearly(owner):
    job = Job.objects.create(owner=owner, endpoint="flux/dev", input={"prompt": "a"}, seed=1)
    with pytest.raises(InvalidResult, match="not an image"):
        store_job_result(job, png_bytes()[:45], "image/png")
