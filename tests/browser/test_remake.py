"""In a real browser: re-run an image from its page and see the identical image arrive; recall
a recipe by choosing a PNG on the create page."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

from gallery.models import Image
from gallery.recipes import content_checksum
from jobs.models import Job, Stage

pytestmark = pytest.mark.django_db(transaction=True)


def test_rerun_from_the_image_page_shows_the_identical_image(signed_in_page, tmp_path):
    page = signed_in_page
    page.goto("/create/flux/dev")
    page.fill("#id_prompt", "a paper boat on a puddle")
    page.click("button:has-text('Generate')")
    page.wait_for_selector("#results .job-card img")
    original = Image.objects.get()

    page.goto(f"/gallery/{original.pk}/")
    page.evaluate("window.__noReload = true")
    page.click("#remake button:has-text('Re-run')")
    page.wait_for_selector("#remade .job-card img")
    assert page.evaluate("window.__noReload") is True
    page.screenshot(path=str(tmp_path / "rerun.png"), full_page=True)

    again = Job.objects.exclude(pk=original.job_id).get()
    assert again.status == Stage.SUCCEEDED and again.seed == original.seed
    with original.file.open("rb") as a, again.image.file.open("rb") as b:
        assert content_checksum(a.read()) == content_checksum(b.read())
    src = page.get_attribute("#remade .job-card img", "src")
    assert src == f"/gallery/{again.image.pk}/thumbnail"


def test_choosing_a_png_on_the_create_page_opens_its_form(signed_in_page, tmp_path):
    info = PngInfo()
    info.add_text(
        "parameters",
        "a tiny house in the woods\nNegative prompt: people\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 5, Seed: 4321, Size: 1344x768, "
        "Model: sd_xl_base_1.0",
    )
    path = tmp_path / "a1111.png"
    buffer = io.BytesIO()
    PILImage.new("RGB", (134, 77), (90, 120, 60)).save(buffer, "PNG", pnginfo=info)
    path.write_bytes(buffer.getvalue())

    page = signed_in_page
    page.goto("/create/")
    page.set_input_files("[data-recall-drop] input[type=file]", str(path))
    page.wait_for_url("**/create/sdxl/generative?*")
    assert page.input_value("#id_prompt") == "a tiny house in the woods"
    assert page.input_value("#id_negative_prompt") == "people"
    assert page.input_value("#id_seed") == "4321"
    assert page.input_value("#id_canvas") == "Landscape"
    assert page.input_value("#id_guidance") == "5"
    assert "SDXL Generative was chosen" in page.inner_text(".messages")
    page.screenshot(path=str(tmp_path / "recall.png"), full_page=True)
