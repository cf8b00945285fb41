"""In a real browser: pick a model, submit, watch the image arrive with no reload; then run
a utility on that image."""

from __future__ import annotations

import pytest

from gallery.models import Image
from jobs.models import Job, Stage

pytestmark = pytest.mark.django_db(transaction=True)


def test_pick_submit_and_see_the_image_swap_in(signed_in_page):
    page = signed_in_page
    page.goto("/create/")
    page.click("nav.picker >> text=Dev LoRA")
    page.wait_for_selector("#endpoint-form h2:has-text('Dev LoRA')")
    assert page.url.endswith("/create/flux/dev-lora")  # the URL follows the picker

    page.evaluate("window.__noReload = true")  # gone if the page reloads
    page.fill("#id_prompt", "a lighthouse on a cliff at sunset")
    page.select_option("#id_canvas", "Portrait")
    page.click("button:has-text('Generate')")
    card = page.wait_for_selector("#results .job-card")
    assert "Dev LoRA" in card.inner_text()

    page.wait_for_selector("#results .job-card img")
    assert page.evaluate("window.__noReload") is True
    job = Job.objects.get()
    assert job.status == Stage.SUCCEEDED
    assert job.image.width == 768 and job.image.height == 1344
    src = page.get_attribute("#results .job-card img", "src")
    assert src == f"/gallery/{job.image.pk}/thumbnail"
    # The thumbnail really loads.
    assert page.evaluate("document.querySelector('#results .job-card img').naturalWidth") > 0


def test_a_utility_on_that_image(signed_in_page):
    page = signed_in_page
    page.goto("/create/flux/dev")
    page.fill("#id_prompt", "a portrait of a smiling astronaut")
    page.click("button:has-text('Generate')")
    page.wait_for_selector("#results .job-card img")
    source = Image.objects.get()

    page.goto(f"/gallery/{source.pk}/")
    page.click("text=Upscale")
    page.wait_for_selector("#endpoint-form h2:has-text('UpScale')")
    assert page.is_checked("input[name=image_source][value=gallery]")
    assert page.input_value("#id_image_image") == str(source.pk)
    page.select_option("#id_model", "Openjourney Redefine")
    page.click("button:has-text('Generate')")
    page.wait_for_selector("#results .job-card img")

    result = Image.objects.exclude(pk=source.pk).get()
    assert result.parent == source
    assert (result.width, result.height) == (source.width * 2, source.height * 2)
