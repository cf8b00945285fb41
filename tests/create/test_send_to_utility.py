"""Send to a utility: the utility's form with the image chosen; face swap with a second image."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from create.remake import SEND_UTILITIES
from gallery.services import create_image
from jobs.models import Job
from tests.factories import ImageFactory, JobResultFactory, png_bytes

pytestmark = pytest.mark.django_db

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<rect width="10" height="10"/></svg>'
)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch, settings):
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    settings.OPENJOURNEY_API_URL = "http://127.0.0.1:9/engine"


def send(client, image, slug):
    return client.get(reverse("create:send", args=[image.pk, slug]))


def selected_gallery_option(html: str, name: str) -> str | None:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    match = re.search(r'<option value="(\d+)" selected>', select)
    return match.group(1) if match else None


@pytest.mark.parametrize("slug", SEND_UTILITIES)
def test_each_utility_opens_prefilled_with_the_image(owner_client, owner, slug):
    image = JobResultFactory(owner=owner)
    response = send(owner_client, image, slug)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("create:create-endpoint", args=[slug])
    assert parse_qs(location.query) == {"image_source": ["gallery"], "image_image": [str(image.pk)]}
    page = owner_client.get(response["Location"])
    assert selected_gallery_option(page.content.decode(), "image_image") == str(image.pk)


def test_the_result_is_a_child_of_the_image(owner_client, owner):
    image = JobResultFactory(owner=owner)
    owner_client.post(
        reverse("create:create-endpoint", args=["utils/upscale"]),
        {"image_source": "gallery", "image_image": image.pk, "model": "Real-ESRGAN"},
    )
    job = Job.objects.get(endpoint="utils/upscale")
    assert job.parent_image == image


def test_uploads_can_be_sent_too_but_svgs_cannot(owner_client, owner):
    upload = ImageFactory(owner=owner, upload=True)
    assert send(owner_client, upload, "utils/upscale").status_code == 302
    svg = create_image(owner, SVG)
    response = send(owner_client, svg, "utils/upscale")
    assert response["Location"] == svg.get_absolute_url()
    [message] = list(get_messages(response.wsgi_request))
    assert "SVG" in str(message)


def test_unknown_or_non_utility_is_404(owner_client, owner):
    image = JobResultFactory(owner=owner)
    for slug in ("flux/dev", "utils/nope", "utils/faceswap-not"):
        assert send(owner_client, image, slug).status_code == 404


def test_team_image_sent_by_a_member_becomes_the_parent(client, owner, team, member):
    shared = JobResultFactory(owner=owner, team=team)
    client.force_login(member)
    location = send(client, shared, "utils/facerestore")["Location"]
    assert selected_gallery_option(client.get(location).content.decode(), "image_image") == str(
        shared.pk
    )
    response = client.post(
        reverse("create:create-endpoint", args=["utils/facerestore"]),
        {"image_source": "gallery", "image_image": shared.pk},
    )
    assert response.status_code == 302
    job = Job.objects.get(owner=member)
    assert job.parent_image == shared and job.team is None


# --- face swap ---------------------------------------------------------------------------


def faceswap(client, image, face=None):
    url = reverse("create:send-faceswap", args=[image.pk])
    return client.get(url, {"face": face} if face is not None else {})


def test_faceswap_without_a_face_offers_the_users_images(owner_client, owner, team, member):
    target = JobResultFactory(owner=owner)
    other = ImageFactory(owner=owner, upload=True, content=png_bytes(colour=(1, 2, 3)))
    teammate = JobResultFactory(owner=member, team=team)
    svg = create_image(owner, SVG)
    response = faceswap(owner_client, target)
    assert response.status_code == 200
    offered = {face.pk for face in response.context["faces"]}
    assert offered == {other.pk, teammate.pk}  # not the target itself, not the SVG
    assert svg.pk not in offered


def test_faceswap_opens_with_the_face_as_source_and_this_image_as_target(owner_client, owner):
    target, face = (
        JobResultFactory(owner=owner),
        ImageFactory(owner=owner, upload=True, content=png_bytes(colour=(9, 9, 9))),
    )
    response = faceswap(owner_client, target, face.pk)
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query == {
        "source_source": ["gallery"],
        "source_image": [str(face.pk)],
        "target_source": ["gallery"],
        "target_image": [str(target.pk)],
    }
    html = owner_client.get(response["Location"]).content.decode()
    assert selected_gallery_option(html, "source_image") == str(face.pk)
    assert selected_gallery_option(html, "target_image") == str(target.pk)


def test_faceswap_result_parent_is_the_target(owner_client, owner):
    target, face = (
        JobResultFactory(owner=owner),
        ImageFactory(owner=owner, upload=True, content=png_bytes(colour=(9, 9, 9))),
    )
    owner_client.post(
        reverse("create:create-endpoint", args=["utils/faceswap"]),
        {
            "source_source": "gallery",
            "source_image": face.pk,
            "target_source": "gallery",
            "target_image": target.pk,
        },
    )
    assert Job.objects.get(endpoint="utils/faceswap").parent_image == target


def test_faceswap_with_a_bad_face_value_says_so(owner_client, owner):
    target = JobResultFactory(owner=owner)
    response = faceswap(owner_client, target, "abc")
    assert response.status_code == 422
    assert "Choose the image whose face goes into this one." in response.content.decode()


def test_faceswap_with_someone_elses_face_or_target_is_404(client, owner, outsider):
    mine, theirs = JobResultFactory(owner=owner), JobResultFactory(owner=outsider)
    client.force_login(owner)
    assert faceswap(client, mine, theirs.pk).status_code == 404
    assert faceswap(client, theirs, mine.pk).status_code == 404
    assert faceswap(client, theirs).status_code == 404


def test_another_users_image_is_404_for_every_utility(client, owner, outsider, team):
    private, shared = JobResultFactory(owner=owner), JobResultFactory(owner=owner, team=team)
    client.force_login(outsider)
    for image in (private, shared):
        for slug in SEND_UTILITIES:
            assert send(client, image, slug).status_code == 404
