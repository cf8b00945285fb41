"""Zip archives of gallery images, streamed: written chunk by chunk as the client reads.

Nothing is built in memory: ``zipfile`` writes into a small sink that only holds what was
written since the last chunk was handed on. Entries are stored (ZIP_STORED), since PNG,
JPEG and WebP are compressed already; ``recipes.json`` lists the recipe of each image.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator

from django.core.files.storage import Storage, default_storage
from django.utils import timezone

from gallery.metadata import gallery_reference, signed_link_name
from gallery.models import Image

READ_CHUNK = 512 * 1024


def archive_name(image: Image) -> str:
    return f"openjourney-{image.pk}.{image.format}"


def _param(value: object) -> object:
    """An input image's signed link becomes the reference the file's own recipe has
    (``gallery:<id>``, None once the image is gone): no link leaves in a zip."""
    return gallery_reference(value) if signed_link_name(value) is not None else value


def image_recipe(image: Image) -> dict:
    """Everything that made ``image`` and describes its file, as plain JSON values."""
    return {
        "id": image.pk,
        "endpoint": image.endpoint,
        "prompt": image.prompt,
        "negative_prompt": image.negative_prompt,
        "params": {key: _param(value) for key, value in image.params.items()},
        "seed": image.seed,
        "job": image.job_id,
        "parent": image.parent_id,
        "author": image.owner.get_username(),
        "team": image.team.name if image.team_id else None,
        "created_at": image.created_at.isoformat(),
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "content_type": image.content_type,
        "size_bytes": image.size_bytes,
        "checksum": image.checksum,
    }


class _Sink:
    """A write-only, unseekable file: ``zipfile`` writes, the generator drains.

    Without ``seek`` zipfile writes each entry's sizes after its data (a data descriptor),
    so it never needs to go back, and the archive can leave as it is written.
    """

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def write(self, data) -> int:
        data = bytes(data)
        self._chunks.append(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        if self._chunks:
            chunk = b"".join(self._chunks)
            self._chunks.clear()
            yield chunk


def stream_zip(images: Iterable[Image], storage: Storage | None = None) -> Iterator[bytes]:
    """The zip of ``images`` (their original files) and ``recipes.json``, in chunks."""
    storage = storage or default_storage
    sink = _Sink()
    recipes = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for image in images:
            recipe = image_recipe(image)
            name = archive_name(image)
            info = zipfile.ZipInfo(name, date_time=_zip_time(image))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            try:
                source = storage.open(image.file.name, "rb")
            except (FileNotFoundError, OSError):
                # The archive is already on its way: say so in the manifest, not with an error.
                recipes.append({**recipe, "file": None, "missing": True})
                continue
            with source, archive.open(info, "w", force_zip64=image.size_bytes > 2**31) as target:
                while chunk := source.read(READ_CHUNK):
                    target.write(chunk)
                    yield from sink.drain()
            recipes.append({**recipe, "file": name})
            yield from sink.drain()
        manifest = {"generator": "Openjourney Studio", "images": recipes}
        archive.writestr("recipes.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    yield from sink.drain()


def _zip_time(image: Image) -> tuple[int, int, int, int, int, int]:
    moment = timezone.localtime(image.created_at)
    if moment.year < 1980:  # the zip format starts in 1980
        return (1980, 1, 1, 0, 0, 0)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
