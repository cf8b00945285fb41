"""The create page: a picker of every endpoint, and a form per endpoint built from the catalog."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from PIL import Image as PILImage

from gallery.models import Image
from gallery.services import create_image
from jobs.models import Job
from openjourney.catalog import ENDPOINTS, FieldKind

pytestmark = pytest.mark.django_db

CREATABLE = [e for e in ENDPOINTS if e.method == "POST" and (e.is_model or e.is_utility)]


@pytest.fixture(autouse=True)
def _no_submit(monkeypatch, settings):
    # These tests are about the page and its form; the job path has its own tests.
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:9/engine"  # nothing answers: fast "down"


def png_bytes(size=(64, 48), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_picker_lists_every_endpoint_by_family(owner_client):
    html = owner_client.get(reverse("create:index")).content.decode()
    for family in ("FLUX", "Re-Craft", "SDXL", "SD", "Utilities"):
        assert f"<h2>{family}</h2>" in html
    for endpoint in CREATABLE:
        assert f'href="{reverse("create:create-endpoint", args=[endpoint.slug])}"' in html
    assert len(CREATABLE) == 36


@pytest.mark.parametrize("endpoint", CREATABLE, ids=lambda e: e.slug)
def test_every_endpoint_has_its_form(owner_client, endpoint):
    url = reverse("create:create-endpoint", args=[endpoint.slug])
    assert url == f"/create/{endpoint.slug}"
    response = owner_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert escape(endpoint.description) in html
    for spec in endpoint.fields:
        if spec.kind == FieldKind.IMAGE:
            assert f'name="{spec.name}_source"' in html
            assert f'name="{spec.name}_upload"' in html
            assert f'name="{spec.name}_url"' in html
        elif spec.choices:
            select = re.search(rf'<select name="{spec.name}"[^>]*>(.*?)</select>', html, re.S)
            assert select, spec.name
            options = re.findall(r'<option value="([^"]*)"', select.group(1))
            assert [o for o in options if o] == list(spec.choices)
        elif spec.kind == FieldKind.BOOLEAN:
            assert f'type="checkbox" name="{spec.name}"' in html
        elif spec.multiline:
            assert f'<textarea name="{spec.name}"' in html
        else:
            assert f'name="{spec.name}"' in html
    assert ('name="count"' in html) == endpoint.is_model
    if endpoint.is_model and not endpoint.takes_seed:
        assert "re-runs will differ" in html or "gives a different image" in html


@pytest.mark.parametrize("endpoint", CREATABLE, ids=lambda e: e.slug)
def test_every_endpoint_validates_with_the_catalog(owner_client, endpoint):
    response = owner_client.post(reverse("create:create-endpoint", args=[endpoint.slug]), {})
    assert response.status_code == 422
    form = response.context["form"]
    for spec in endpoint.fields:
        if spec.required and spec.kind != FieldKind.IMAGE:
            assert spec.name in form.errors, spec.name
    assert not Job.objects.exists()


def test_htmx_picker_swaps_only_the_form(owner_client):
    response = owner_client.get(
        reverse("create:create-endpoint", args=["utils/upscale"]), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert 'id="endpoint-form"' in html
    assert "<html" not in html
    assert "Real-ESRGAN" in html


def test_out_of_bounds_and_bad_choice_errors_show_inline(owner_client):
    response = owner_client.post(
        reverse("create:create-endpoint", args=["sd/1/generative"]),
        {"prompt": "a", "canvas": "Huge", "guidance": "99", "seed": "-4"},
    )
    errors = response.context["form"].errors
    assert "canvas" in errors and "guidance" in errors and "seed" in errors
    assert 'id="errors-guidance"' in response.content.decode()


def test_htmx_invalid_submit_retargets_the_form(owner_client):
    response = owner_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "", "canvas": "Square"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#endpoint-form"
    assert "This field is required." in response.content.decode()


def test_validate_endpoint_saves_nothing(owner_client):
    response = owner_client.post(
        reverse("create:validate", args=["flux/dev"]), {"prompt": "a", "canvas": "Square"}
    )
    assert response.status_code == 200
    assert not Job.objects.exists()


def test_query_parameters_prefill_the_form(owner_client):
    response = owner_client.get(
        reverse("create:create-endpoint", args=["flux/dev"]) + "?prompt=a+blue+whale&evil=1"
    )
    form = response.context["form"]
    assert form.initial == {"prompt": "a blue whale"}


def test_unknown_or_non_creatable_endpoint_is_404(owner_client):
    for slug in ("flux/nope", "job/{id}", "internal/ping"):
        assert owner_client.get(f"/create/{slug}").status_code == 404


def test_upstream_down_is_said_before_the_user_waits(owner_client):
    html = owner_client.get(reverse("create:create-endpoint", args=["flux/dev"])).content.decode()
    assert "The Openjourney API is not answering" in html
    badge = owner_client.get(reverse("studio:health")).content.decode()
    assert "API down" in badge


# --- utilities: gallery, upload, link --------------------------------------------------


def test_utility_from_an_upload(owner_client, owner):
    upload = SimpleUploadedFile("cat.png", png_bytes(), content_type="image/png")
    response = owner_client.post(
        reverse("create:create-endpoint", args=["utils/upscale"]),
        {"image_source": "upload", "image_upload": upload, "model": "Real-ESRGAN"},
    )
    assert response.status_code == 302
    job = Job.objects.get()
    uploaded = Image.objects.get(endpoint="")
    assert job.parent_image == uploaded
    assert "/media/signed/" in job.input["image"]
    assert job.input["model"] == "Real-ESRGAN"


def test_utility_from_the_gallery(owner_client, owner):
    image = create_image(owner, png_bytes())
    owner_client.post(
        reverse("create:create-endpoint", args=["utils/facerestore"]),
        {"image_source": "gallery", "image_image": image.pk},
    )
    job = Job.objects.get()
    assert job.parent_image == image
    signed = job.input["image"].split("/media/signed/")[1]
    response = owner_client.get(f"/media/signed/{signed}")
    assert response.status_code == 200


def test_another_users_gallery_image_is_refused(owner_client, outsider):
    theirs = create_image(outsider, png_bytes())
    response = owner_client.post(
        reverse("create:create-endpoint", args=["utils/upscale"]),
        {"image_source": "gallery", "image_image": theirs.pk},
    )
    assert response.status_code == 422
    assert "image_image" in response.context["form"].errors
    assert not Job.objects.exists()


def test_face_swap_takes_two_images(owner_client, owner):
    source, target = create_image(owner, png_bytes()), create_image(owner, png_bytes())
    owner_client.post(
        reverse("create:create-endpoint", args=["utils/faceswap"]),
        {
            "source_source": "gallery",
            "source_image": source.pk,
            "target_source": "gallery",
            "target_image": target.pk,
        },
    )
    job = Job.objects.get()
    assert job.input["source"] != job.input["target"]


def test_utility_from_a_public_link(owner_client, monkeypatch):
    import socket

    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))
        ],
    )
    owner_client.post(
        reverse("create:create-endpoint", args=["utils/remove-background"]),
        {"image_source": "link", "image_url": "https://photos.example/cat.png"},
    )
    assert Job.objects.get().input["image"] == "https://photos.example/cat.png"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1/a.png", "private, loopback or link-local"),
        ("http://10.1.2.3/a.png", "private, loopback or link-local"),
        ("http://169.254.169.254/latest/meta-data/", "private, loopback or link-local"),
        ("http://2130706433/a.png", "Enter a valid URL"),  # decimal: not even a URL here
        ("http://0.0.0.0/a.png", "private, loopback or link-local"),
        ("http://[::1]/a.png", "private, loopback or link-local"),
        ("http://[::ffff:169.254.169.254]/a.png", "private, loopback or link-local"),
        ("http://[64:ff9b::a9fe:a9fe]/a.png", "private, loopback or link-local"),
        ("ftp://photos.example/a.png", "http or https"),
    ],
)
def test_unsafe_links_are_refused(owner_client, url, message):
    response = owner_client.post(
        reverse("create:create-endpoint", args=["utils/upscale"]),
        {"image_source": "link", "image_url": url},
    )
    assert response.status_code == 422
    assert any(message in e for e in response.context["form"].errors["image_url"])
    assert not Job.objects.exists()


def test_upload_that_is_not_an_image_is_refused(owner_client):
    upload = SimpleUploadedFile("cat.png", b"<html>not an image</html>", content_type="image/png")
    response = owner_client.post(
        reverse("create:create-endpoint", args=["utils/upscale"]),
        {"image_source": "upload", "image_upload": upload},
    )
    assert response.status_code == 422
    assert "not an image" in response.context["form"].errors["image_upload"][0]
    assert not Image.objects.exists()


def test_oversized_upload_is_refused(owner_client, settings):
    settings.STUDIO_MAX_UPLOAD_BYTES = 100
    upload = SimpleUploadedFile("cat.png", png_bytes(), content_type="image/png")
    response = owner_client.post(
        reverse("create:create-endpoint", args=["utils/upscale"]),
        {"image_source": "upload", "image_upload": upload},
    )
    assert "larger than" in response.context["form"].errors["image_upload"][0]


def test_decompression_bomb_upload_is_refused(owner_client, settings):
    settings.STUDIO_MAX_UPLOAD_PIXELS = 1_000_000
    upload = SimpleUploadedFile("bomb.png", png_bytes((3000, 3000), (0, 0, 0)), "image/png")
    response = owner_client.post(
        reverse("create:create-endpoint", args=["utils/upscale"]),
        {"image_source": "upload", "image_upload": upload},
    )
    assert "too large" in response.context["form"].errors["image_upload"][0]
    assert not Image.objects.exists()
