"""Uploads whose declared type lies: the bytes decide what a file is, and every create path
that takes a file answers a refusal with a form error where the person acted, never a 500.

The paths: a utility's form (full page and HTMX, and its inline validation), face swap's
second image, the form as "send to a utility" and "remix" open it (the person then switches
the image to an upload), and recall from a file.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

from gallery.models import Image
from gallery.services import InvalidResult, create_image
from jobs.models import Job, Stage
from tests.factories import JobResultFactory

pytestmark = pytest.mark.django_db

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<rect width="10" height="10"/></svg>'
)


def png(size=(48, 32), recipe: str | None = None) -> bytes:
    info = PngInfo()
    if recipe:
        info.add_text("parameters", recipe)
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (30, 120, 200)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


A1111 = "a lighthouse at dusk\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 48x32"
PNG = png(recipe=A1111)
# A PNG cut short inside its image data: the signature and header are right.
TRUNCATED_PNG = PNG[: len(PNG) // 2]
GARBAGE = b"\x00\x13 this is no image at all \xff" * 20

# (what the bytes are, the declared type, accepted?)
MISLABELLED = {
    "png-as-svg": (PNG, "image/svg+xml", True),
    "svg-as-png": (SVG, "image/png", False),
    "garbage-as-png": (GARBAGE, "image/png", False),
    "truncated-png": (TRUNCATED_PNG, "image/png", False),
}


@pytest.fixture(autouse=True)
def _quiet(monkeypatch, settings):
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:9/engine"  # the form's health check: fast


def upload(case: str, name: str = "picture.png") -> SimpleUploadedFile:
    content, declared, _ = MISLABELLED[case]
    return SimpleUploadedFile(name, content, content_type=declared)


def utility_post(client, slug: str, data: dict, *, htmx: bool = False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("create:create-endpoint", args=[slug]), data, headers=headers)


def field_error(response, field: str) -> str:
    """The error shown under ``field`` in the form's HTML (the page or its fragment)."""
    match = re.search(rf'<div id="errors-{field}">(.*?)</div>', response.content.decode(), re.S)
    assert match, f"no {field} in the form"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def assert_upload_outcome(response, slug: str, case: str, field="image_upload", *, htmx=False):
    """Accepted: one job, the upload stored as what its bytes are. Refused: the form again,
    the reason under the upload field, nothing created."""
    accepted = MISLABELLED[case][2]
    jobs = Job.objects.filter(endpoint=slug, status=Stage.QUEUED)  # the new ones
    if accepted:
        assert response.status_code in (200, 302), response.content.decode()[:500]
        job = jobs.get()
        uploaded = Image.objects.get(endpoint="")
        assert uploaded.content_type == "image/png" and uploaded.format == "png"
        assert job.parent_image == uploaded
        return
    assert response.status_code == (200 if htmx else 422), response.content.decode()[:500]
    assert field_error(response, field), "the refusal is said under the upload"
    assert not jobs.exists()
    assert not Image.objects.filter(endpoint="").exists()


@pytest.mark.parametrize("case", MISLABELLED)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_utility_form_decides_by_the_bytes(owner_client, case, htmx):
    data = {"image_source": "upload", "image_upload": upload(case), "model": "Real-ESRGAN"}
    response = utility_post(owner_client, "utils/upscale", data, htmx=htmx)
    assert_upload_outcome(response, "utils/upscale", case, htmx=htmx)


@pytest.mark.parametrize("case", MISLABELLED)
def test_inline_validation_refuses_what_the_submit_would(owner_client, case):
    data = {"image_source": "upload", "image_upload": upload(case), "model": "Real-ESRGAN"}
    response = owner_client.post(reverse("create:validate", args=["utils/upscale"]), data)
    assert response.status_code == 200
    assert bool(field_error(response, "image_upload")) is not MISLABELLED[case][2]
    assert not Image.objects.exists()


@pytest.mark.parametrize("case", MISLABELLED)
def test_face_swap_with_a_mislabelled_second_image(owner_client, owner, case):
    face = JobResultFactory(owner=owner)
    data = {
        "source_source": "gallery",
        "source_image": face.pk,
        "target_source": "upload",
        "target_upload": upload(case),
    }
    response = utility_post(owner_client, "utils/faceswap", data)
    assert_upload_outcome(response, "utils/faceswap", case, "target_upload")


@pytest.mark.parametrize("case", MISLABELLED)
def test_the_form_send_to_a_utility_opens(owner_client, owner, case):
    image = JobResultFactory(owner=owner)
    opened = owner_client.get(reverse("create:send", args=[image.pk, "utils/facerestore"]))
    assert opened.status_code == 302
    assert owner_client.get(opened["Location"]).status_code == 200
    # The person picks "Upload" instead of the gallery image the form was opened with.
    data = {"image_source": "upload", "image_image": image.pk, "image_upload": upload(case)}
    response = owner_client.post(opened["Location"].split("?")[0], data)
    assert_upload_outcome(response, "utils/facerestore", case)


@pytest.mark.parametrize("case", MISLABELLED)
def test_the_form_remix_opens(owner_client, owner, case):
    source = JobResultFactory(owner=owner)
    result = JobResultFactory(
        owner=owner,
        endpoint="utils/clarify",
        body={"image": "https://example.com/in.png"},
        seed=None,
    )
    opened = owner_client.get(reverse("create:remix", args=[result.pk]))
    assert opened.status_code == 302
    assert opened["Location"].startswith(reverse("create:create-endpoint", args=["utils/clarify"]))
    data = {"image_source": "upload", "image_image": source.pk, "image_upload": upload(case)}
    response = owner_client.post(opened["Location"].split("?")[0], data)
    assert_upload_outcome(response, "utils/clarify", case)


@pytest.mark.parametrize("case", MISLABELLED)
def test_recall_decides_by_the_bytes(owner_client, case):
    response = owner_client.post(reverse("create:recall"), {"file": upload(case)})
    if MISLABELLED[case][2]:
        assert response.status_code == 302
        assert response["Location"].startswith("/create/")
        return
    assert response.status_code == 422
    assert "file" in response.context["form"].errors


def test_the_stored_type_is_the_bytes_type_whatever_was_declared(owner):
    """create_image takes no declared type: a PNG is stored as one, an SVG as one."""
    stored = create_image(owner, PNG)
    assert (stored.format, stored.content_type) == ("png", "image/png")
    # An SVG that starts with a comment and a byte-order mark is still an SVG.
    svg = create_image(owner, b"\xef\xbb\xbf<!-- drawn by hand -->\n<svg" + SVG[4:])
    assert (svg.format, svg.content_type) == ("svg", "image/svg+xml")
    for content in (GARBAGE, TRUNCATED_PNG, b"<html><body>hi</body></html>"):
        with pytest.raises(InvalidResult):
            create_image(owner, content)


def test_a_refusal_when_storing_is_a_form_error_too(owner_client, monkeypatch):
    """Should the form's look at the bytes and the gallery's ever disagree, the gallery's
    refusal is still said under the upload, and nothing is kept."""
    monkeypatch.setattr("create.forms.sniff_image", lambda content: "raster")
    monkeypatch.setattr("create.forms.decode_raster", lambda content, max_pixels: None)
    data = {"image_source": "upload", "image_upload": upload("garbage-as-png")}
    response = utility_post(owner_client, "utils/upscale", data)
    assert response.status_code == 422
    assert field_error(response, "image_upload") == "The file is not an image the studio can read."
    assert not Job.objects.exists() and not Image.objects.exists()
