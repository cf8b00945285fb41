"""The signed media links the API fetches: each names the user it was minted for, serves
the file only while that user may see the image, and expires in minutes."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.urls import reverse

from engine.fetch import FetchRefused, fetch_image
from gallery.links import read_signed_value, signed_media_url
from openjourney.links import MEDIA_LINK_MAX_AGE, MEDIA_LINK_SALT
from teams.models import Membership
from tests.factories import JobResultFactory

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return "/media/signed/" + url.rsplit("/media/signed/", 1)[1]


def minted_ago(monkeypatch, seconds: float, name: str, user_id: int) -> str:
    """A link as it was minted ``seconds`` ago."""
    now = time.time()
    monkeypatch.setattr("django.core.signing.time.time", lambda: now - seconds)
    url = signed_media_url(name, user_id)
    monkeypatch.undo()
    return url


def test_a_link_serves_the_file_while_its_user_may_see_the_image(client, owner, team, viewer):
    image = JobResultFactory(owner=owner, team=team)
    url = signed_media_url(image.file.name, viewer.pk)
    response = client.get(path_of(url))  # signed out: the API's fetch
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    Membership.objects.filter(team=team, user=viewer).delete()
    assert client.get(path_of(url)).status_code == 404
    client.force_login(viewer)
    assert client.get(path_of(url)).status_code == 404
    # The owner's own link still works: the image is there, only the viewer lost it.
    assert client.get(path_of(signed_media_url(image.file.name, owner.pk))).status_code == 200


def test_a_link_minted_for_someone_who_cannot_see_the_image_serves_nothing(client, owner, outsider):
    image = JobResultFactory(owner=owner)
    assert client.get(path_of(signed_media_url(image.file.name, outsider.pk))).status_code == 404


def test_a_link_ends_with_its_image(client, owner):
    image = JobResultFactory(owner=owner)
    url = signed_media_url(image.file.name, owner.pk)
    image.delete()
    assert client.get(path_of(url)).status_code == 404


def test_a_link_expires_in_minutes(client, owner, monkeypatch):
    assert MEDIA_LINK_MAX_AGE <= 15 * 60
    image = JobResultFactory(owner=owner)
    fresh = minted_ago(monkeypatch, MEDIA_LINK_MAX_AGE - 30, image.file.name, owner.pk)
    stale = minted_ago(monkeypatch, MEDIA_LINK_MAX_AGE + 30, image.file.name, owner.pk)
    assert client.get(path_of(fresh)).status_code == 200
    assert client.get(path_of(stale)).status_code == 404


def test_links_that_name_no_user_are_refused(client, owner):
    """Links minted before they carried their user: the studio cannot tell whom to ask."""
    image = JobResultFactory(owner=owner)
    value = signing.dumps({"n": image.file.name}, salt=MEDIA_LINK_SALT, compress=True)
    assert read_signed_value(value) is None
    assert client.get(reverse("signed-media", args=[value])).status_code == 404
    for payload in ({"n": image.file.name, "u": str(owner.pk)}, {"u": owner.pk}, [1, 2]):
        value = signing.dumps(payload, salt=MEDIA_LINK_SALT)
        assert client.get(reverse("signed-media", args=[value])).status_code == 404


def test_the_engine_reads_the_links_the_studio_mints(owner, monkeypatch):
    """The engine reads the same links from storage (key "n"; "u" is the studio's)."""
    image = JobResultFactory(owner=owner)
    url = signed_media_url(image.file.name, owner.pk)
    assert fetch_image(url, user_id=owner.pk).size == (image.width, image.height)
    stale = minted_ago(monkeypatch, MEDIA_LINK_MAX_AGE + 30, image.file.name, owner.pk)
    with pytest.raises(FetchRefused, match="invalid or has expired"):
        fetch_image(stale, user_id=owner.pk)
