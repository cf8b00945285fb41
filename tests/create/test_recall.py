"""Recall from a file: a PNG's recipe (ours, A1111's, InvokeAI's) opens the form, filled in."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

from jobs.models import Job
from tests.factories import JobResultFactory, png_bytes, stored_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _api_down(settings):
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:9/engine"  # the form's health check: fast


def png_with(size=(64, 64), **chunks: str) -> bytes:
    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (40, 90, 160)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def recall(client, content: bytes, name="image.png", content_type="image/png"):
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(reverse("create:recall"), {"file": upload})


def opened(client, response):
    """The form the recall redirected to, and the note shown on it."""
    assert response.status_code == 302, response.content.decode()[:500]
    page = client.get(response["Location"])
    notes = [str(m) for m in get_messages(page.wsgi_request)]
    return page, notes


def test_our_own_file_opens_its_form_with_everything_and_the_seed(owner_client, owner):
    image = JobResultFactory(
        owner=owner,
        endpoint="sdxl/pony",
        body={
            "prompt": "a knight",
            "negative_prompt": "blur",
            "model": "wai anime sfw",
            "canvas": "Landscape",
            "scheduler": "UniPC",
        },
        seed=123456,
    )
    page, notes = opened(owner_client, recall(owner_client, stored_bytes(image)))
    assert page.context["endpoint"].slug == "sdxl/pony"
    assert page.context["form"].initial == {
        "prompt": "a knight",
        "negative_prompt": "blur",
        "model": "wai anime sfw",
        "canvas": "Landscape",
        "scheduler": "UniPC",
        "seed": "123456",
    }
    assert notes == ["Filled in from the Openjourney Studio recipe in the file."]
    assert 'value="123456"' in page.content.decode()
    assert not Job.objects.exclude(pk=image.job_id).exists()  # nothing is run


def test_a1111_file_opens_the_sdxl_form_for_an_sdxl_checkpoint(owner_client):
    parameters = (
        "a castle on a hill, golden hour\n"
        "Negative prompt: blurry, low quality\n"
        "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234, Size: 832x1216, "
        "Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Version: v1.10.1"
    )
    page, [note] = opened(owner_client, recall(owner_client, png_with(parameters=parameters)))
    assert page.context["endpoint"].slug == "sdxl/generative"
    assert page.context["form"].initial == {
        "prompt": "a castle on a hill, golden hour",
        "negative_prompt": "blurry, low quality",
        "canvas": "Portrait",  # 832×1216 is tall
        "guidance": "6.5",
        "seed": "1234",
    }
    assert "AUTOMATIC1111" in note and "“sd_xl_base_1.0”" in note
    assert "SDXL Generative was chosen" in note
    assert "Sampler “DPM++ 2M Karras”" in note  # listed as not used


def test_a1111_file_naming_a_catalog_model(owner_client):
    parameters = "a red fox\nSteps: 30, Sampler: Euler a, CFG scale: 7, Seed: 5, Model: flux/dev"
    page, [note] = opened(owner_client, recall(owner_client, png_with(parameters=parameters)))
    assert page.context["endpoint"].slug == "flux/dev"
    assert page.context["form"].initial == {"prompt": "a red fox", "canvas": "Square", "seed": "5"}
    assert note.startswith("Filled in from the AUTOMATIC1111 recipe in the file.")


def test_a1111_pony_file_keeps_its_sampler(owner_client):
    parameters = (
        "score_9, a fox girl\nSteps: 25, Sampler: Euler a, CFG scale: 7, Seed: 99, "
        "Size: 1024x1024, Model: ponyDiffusionV6XL_v6StartWithThisOne"
    )
    page, _ = opened(owner_client, recall(owner_client, png_with(parameters=parameters)))
    assert page.context["endpoint"].slug == "sdxl/pony"
    initial = page.context["form"].initial
    assert initial["scheduler"] == "Euler a" and initial["canvas"] == "Square"


@pytest.mark.parametrize(
    ("model", "slug"),
    [
        ("flux1-dev-fp8", "flux/dev"),
        ("FLUX.1-schnell", "flux/schnell"),
        ("sd3.5_large", "sd/3.5/large"),
        ("v1-5-pruned-emaonly", "sd/1/generative"),
        ("", "sd/1/generative"),
    ],
)
def test_unknown_models_are_matched_by_name(owner_client, model, slug):
    parameters = f"a cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Model: {model}"
    page, _ = opened(owner_client, recall(owner_client, png_with(parameters=parameters)))
    assert page.context["endpoint"].slug == slug


def test_out_of_range_values_are_left_out_and_listed(owner_client):
    parameters = "a cat\nSteps: 20, Sampler: Euler, CFG scale: 35, Seed: 1, Model: sd-v1-4"
    page, [note] = opened(owner_client, recall(owner_client, png_with(parameters=parameters)))
    assert page.context["endpoint"].slug == "sd/1/generative"
    assert "guidance" not in page.context["form"].initial
    assert "Guidance “35”" in note


def test_invokeai_file(owner_client):
    metadata = {
        "positive_prompt": "a red panda eating bamboo",
        "negative_prompt": "text",
        "width": 1344,
        "height": 768,
        "seed": 4242,
        "cfg_scale": 4,
        "scheduler": "euler_a",
        "model": {"name": "FLUX Dev (Quantized)", "base": "flux"},
    }
    content = png_with(invokeai_metadata=json.dumps(metadata))
    page, [note] = opened(owner_client, recall(owner_client, content))
    assert page.context["endpoint"].slug == "flux/dev"
    assert page.context["form"].initial == {
        "prompt": "a red panda eating bamboo",
        "canvas": "Landscape",
        "seed": "4242",
    }
    assert "InvokeAI" in note and "Negative prompt “text”" in note


def test_malformed_chunks_are_ignored(owner_client):
    content = png_with(
        openjourney="{not json", parameters="a cat\nSteps: 1, Seed: 3, Model: flux/dev, Size: 8x8"
    )
    page, _ = opened(owner_client, recall(owner_client, content))
    assert page.context["form"].initial["prompt"] == "a cat"


def test_a_file_without_a_recipe_is_said_clearly(owner_client):
    response = recall(owner_client, png_bytes())
    assert response.status_code == 422
    assert "This image carries no recipe" in response.content.decode()
    response = recall(owner_client, png_with(openjourney="[]", invokeai_metadata="{"))
    assert "This image carries no recipe" in response.content.decode()


def test_not_an_image_too_big_or_a_bomb_is_refused_like_an_upload(owner_client, settings):
    response = recall(owner_client, b"%PDF-1.4 not an image", "doc.png")
    assert response.status_code == 422
    assert "The file is not an image the studio can read." in response.content.decode()

    settings.STUDIO_MAX_UPLOAD_BYTES = 1024 * 1024
    big = png_with(parameters="a\nSteps: 1, Seed: 1, Model: flux/dev") + b"\0" * (1024 * 1024)
    response = recall(owner_client, big)
    assert "The file is larger than 1 MB." in response.content.decode()

    settings.STUDIO_MAX_UPLOAD_PIXELS = 100 * 100
    bomb = png_with(size=(400, 400), parameters="a\nSteps: 1, Seed: 1, Model: flux/dev")
    response = recall(owner_client, bomb)
    assert response.status_code == 422
    assert "The image is too large" in response.content.decode()


def test_no_file_chosen(owner_client):
    response = owner_client.post(reverse("create:recall"), {})
    assert response.status_code == 422
    assert "Choose an image file." in response.content.decode()


def test_the_page_and_the_drop_zone_work_without_javascript(owner_client):
    page = owner_client.get(reverse("create:recall")).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'type="file" name="file"' in page
    assert "FLUX ones open FLUX Dev" in page
    create = owner_client.get(reverse("create:index")).content.decode()
    assert f'action="{reverse("create:recall")}"' in create and "data-recall-drop" in create


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get(reverse("create:recall"))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
