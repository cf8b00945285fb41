"""Zip downloads: the originals, byte for byte, and recipes.json, streamed as written."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from asgiref.sync import async_to_sync
from django.core.files.storage import default_storage
from django.urls import reverse

from gallery import zips
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

ZIP = reverse("gallery:zip")


class CountingStorage:
    """The default storage, counting the files opened (to see how far the zip has got)."""

    def __init__(self, storage) -> None:
        self.storage = storage
        self.opened: list[str] = []

    def open(self, name, mode="rb"):
        self.opened.append(name)
        return self.storage.open(name, mode)


def read_zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def stored_bytes(image) -> bytes:
    with default_storage.open(image.file.name, "rb") as handle:
        return handle.read()


def test_zip_holds_the_originals_and_the_recipes(owner_client, owner, team):
    parent = ImageFactory(owner=owner, prompt="first")
    child = ImageFactory(
        owner=owner,
        prompt="second",
        negative_prompt="noise",
        parent=parent,
        team=team,
        params={"canvas": "Square", "guidance": 3},
        seed=7,
    )
    response = owner_client.get(ZIP, {"ids": [parent.pk, child.pk]})
    assert response.streaming is True
    assert response["Content-Disposition"] == 'attachment; filename="openjourney-images.zip"'
    archive = read_zip(response)
    assert archive.testzip() is None
    names = archive.namelist()
    assert sorted(names) == sorted(
        [f"openjourney-{parent.pk}.png", f"openjourney-{child.pk}.png", "recipes.json"]
    )
    for image in (parent, child):
        info = archive.getinfo(f"openjourney-{image.pk}.png")
        assert info.compress_type == zipfile.ZIP_STORED
        assert archive.read(info) == stored_bytes(image)

    manifest = json.loads(archive.read("recipes.json"))
    recipes = {item["id"]: item for item in manifest["images"]}
    assert recipes[child.pk] == {
        "id": child.pk,
        "file": f"openjourney-{child.pk}.png",
        "endpoint": "flux/dev",
        "prompt": "second",
        "negative_prompt": "noise",
        "params": {"canvas": "Square", "guidance": 3},
        "seed": 7,
        "job": None,
        "parent": parent.pk,
        "author": "owner",
        "team": team.name,
        "created_at": child.created_at.isoformat(),
        "width": child.width,
        "height": child.height,
        "format": "png",
        "content_type": "image/png",
        "size_bytes": child.size_bytes,
        "checksum": child.checksum,
    }
    assert recipes[parent.pk]["team"] is None


def test_the_bulk_bar_zip_is_the_same_archive(owner_client, owner):
    images = [ImageFactory(owner=owner) for _ in range(2)]
    response = owner_client.post(
        reverse("gallery:bulk"), {"action": "zip", "ids": [i.pk for i in images]}
    )
    archive = read_zip(response)
    assert len(archive.namelist()) == 3


def test_zip_streams_before_the_archive_is_built(owner_client, owner, monkeypatch):
    images = [ImageFactory(owner=owner) for _ in range(4)]
    counting = CountingStorage(default_storage)
    monkeypatch.setattr(zips, "default_storage", counting)
    response = owner_client.get(ZIP, {"ids": [image.pk for image in images]})
    assert response.streaming is True
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert first.startswith(b"PK\x03\x04")  # a local file header: the archive has begun
    assert len(counting.opened) < len(images)  # ... with the other files not read yet
    rest = b"".join(chunks)
    assert len(counting.opened) == len(images)
    archive = zipfile.ZipFile(io.BytesIO(first + rest))
    assert len(archive.namelist()) == len(images) + 1


def test_zip_streams_under_asgi_too(async_client, owner, monkeypatch):
    """Under ASGI a plain iterator would be read whole before sending: an async one is used."""
    images = [ImageFactory(owner=owner) for _ in range(3)]
    counting = CountingStorage(default_storage)
    monkeypatch.setattr(zips, "default_storage", counting)
    async_client.force_login(owner)

    async def first_chunk_then_rest():
        response = await async_client.get(ZIP, {"ids": [image.pk for image in images]})
        assert response.streaming is True and response.is_async
        chunks = aiter(response.streaming_content)
        first = await anext(chunks)
        opened_at_first = len(counting.opened)
        rest = b"".join([chunk async for chunk in chunks])
        return first, opened_at_first, rest

    first, opened_at_first, rest = async_to_sync(first_chunk_then_rest)()
    assert opened_at_first < len(images)
    archive = zipfile.ZipFile(io.BytesIO(first + rest))
    assert {f"openjourney-{image.pk}.png" for image in images} < set(archive.namelist())


def test_a_file_missing_from_storage_is_noted_not_fatal(owner_client, owner):
    present, gone = ImageFactory(owner=owner), ImageFactory(owner=owner)
    default_storage.delete(gone.file.name)
    archive = read_zip(owner_client.get(ZIP, {"ids": [present.pk, gone.pk]}))
    assert f"openjourney-{gone.pk}.png" not in archive.namelist()
    manifest = {item["id"]: item for item in json.loads(archive.read("recipes.json"))["images"]}
    assert manifest[gone.pk]["missing"] is True and manifest[gone.pk]["file"] is None
    assert archive.read(f"openjourney-{present.pk}.png") == stored_bytes(present)


def test_team_images_zip_for_a_viewer(client, owner, viewer, team):
    image = ImageFactory(owner=owner, team=team)
    client.force_login(viewer)
    archive = read_zip(client.get(ZIP, {"ids": image.pk}))
    assert archive.read(f"openjourney-{image.pk}.png") == stored_bytes(image)


def test_one_foreign_image_makes_the_zip_404(owner_client, owner, outsider):
    mine, theirs = ImageFactory(owner=owner), ImageFactory(owner=outsider)
    assert owner_client.get(ZIP, {"ids": [mine.pk, theirs.pk]}).status_code == 404
    assert owner_client.get(ZIP, {"ids": [theirs.pk]}).status_code == 404
    assert owner_client.get(ZIP, {"ids": [mine.pk + theirs.pk + 100]}).status_code == 404


def test_zip_without_ids_says_so(owner_client):
    response = owner_client.get(ZIP, {"ids": ["x"]}, follow=True)
    assert "Choose between 1 and 500 images to download" in response.content.decode()
