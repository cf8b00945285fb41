"""Storing images: results of jobs and uploads, each with a WebP thumbnail and a checksum.

Files are written first and the row created after, in one place: if the row cannot be
saved the files are removed again, so nothing is left half-saved.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import secrets
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from gallery.models import Image
from gallery.svg import UnsafeSvg, is_svg_document, sanitise_svg
from teams.models import Team

THUMBNAIL_SIZE = 512
RASTER_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif"}


class InvalidResult(ValueError):
    """A file that is not an image the studio can keep; the message says why."""


def decode_raster(content: bytes, max_pixels: int) -> PILImage.Image:
    """Open and fully decode an image, refusing non-images and decompression bombs."""
    previous = PILImage.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            PILImage.MAX_IMAGE_PIXELS = max_pixels
            image = PILImage.open(io.BytesIO(content))
            if image.width * image.height > max_pixels:
                raise InvalidResult(
                    f"The image is too large: {image.width}×{image.height} pixels "
                    f"(the limit is {max_pixels:,})."
                )
            image.load()
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise InvalidResult(
            f"The image is too large (the limit is {max_pixels:,} pixels)."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InvalidResult):
            raise
        raise InvalidResult("The file is not an image the studio can read.") from None
    finally:
        PILImage.MAX_IMAGE_PIXELS = previous
    if image.format not in RASTER_FORMATS:
        raise InvalidResult(f"Images in {image.format} format are not accepted.")
    return image


def sniff_image(content: bytes) -> str:
    """What the bytes are, whatever type the file was sent with: "raster" when Pillow knows
    their signature (PNG, JPEG, WebP, GIF; a format the studio refuses too, for
    ``decode_raster`` to name), "svg" when they parse as an SVG document (``gallery.svg``).
    InvalidResult for anything else."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            # Reads the header only; the pixels are decoded (and bombs refused) later.
            PILImage.open(io.BytesIO(content)).close()
        return "raster"
    except PILImage.DecompressionBombError:
        return "raster"  # a raster, too large: decode_raster says so
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        pass
    if is_svg_document(content):
        return "svg"
    raise InvalidResult("The file is not an image the studio can read.")


def _thumbnail(image: PILImage.Image) -> tuple[bytes, str]:
    """A WebP thumbnail and the image's mean colour (the placeholder while it loads)."""
    thumb = ImageOps.exif_transpose(image)
    thumb = thumb.convert("RGBA" if "A" in thumb.getbands() else "RGB")
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), PILImage.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumb.save(buffer, "WEBP", quality=80, method=4)
    mean = thumb.convert("RGB").resize((1, 1), PILImage.Resampling.BOX).getpixel((0, 0))
    return buffer.getvalue(), "#{:02x}{:02x}{:02x}".format(*mean)


def _svg_size(data: bytes) -> tuple[int, int]:
    import re

    match = re.search(rb'viewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)', data)
    if match:
        return round(float(match.group(1))), round(float(match.group(2)))
    return 0, 0


def create_image(
    owner,
    content: bytes,
    *,
    job=None,
    parent=None,
    endpoint: str = "",
    prompt: str = "",
    negative_prompt: str = "",
    params: dict | None = None,
    seed: int | None = None,
    max_pixels: int | None = None,
    team=None,
) -> Image:
    """Validate ``content``, store it with a thumbnail, and create its gallery row.

    What the file is comes from its bytes alone (``sniff_image``), never from the type its
    sender declared: a PNG sent as ``image/svg+xml`` is stored as the PNG it is.
    """
    stem = secrets.token_urlsafe(16)
    thumb_name = ""
    if sniff_image(content) == "svg":
        try:
            content = sanitise_svg(content)
        except UnsafeSvg as exc:
            raise InvalidResult(str(exc)) from None
        fmt, content_type = "svg", "image/svg+xml"
        width, height = _svg_size(content)
        thumb_bytes, placeholder = b"", "#f4f4f4"
    else:
        image = decode_raster(content, max_pixels or settings.STUDIO_MAX_UPLOAD_PIXELS)
        fmt = RASTER_FORMATS[image.format]
        content_type = f"image/{fmt}"
        width, height = image.size
        thumb_bytes, placeholder = _thumbnail(image)

    instance = Image(
        owner=owner,
        team=team,
        job=job,
        parent=parent,
        endpoint=endpoint,
        prompt=prompt,
        negative_prompt=negative_prompt,
        params=params or {},
        seed=seed,
        content_type=content_type,
        format=fmt,
        width=width,
        height=height,
        size_bytes=len(content),
        checksum=hashlib.sha256(content).hexdigest(),
        placeholder=placeholder,
    )
    instance.file.save(f"{stem}.{fmt}", ContentFile(content), save=False)
    try:
        if thumb_bytes:
            instance.thumbnail.save(f"{stem}.webp", ContentFile(thumb_bytes), save=False)
            thumb_name = instance.thumbnail.name
        with transaction.atomic():
            instance.save()
    except Exception:
        default_storage.delete(instance.file.name)
        if thumb_name:
            default_storage.delete(thumb_name)
        raise
    return instance


def store_job_result(job, content: bytes, content_type: str) -> Image:
    """The downloaded output of ``job`` as a gallery image carrying the job's recipe."""
    allowed = {"image/png", "image/jpeg", "image/webp", "image/svg+xml", ""}
    if content_type not in allowed and not content_type.startswith("application/octet"):
        raise InvalidResult(f"The API's result is {content_type or 'untyped'}, not an image.")
    params = {k: v for k, v in job.input.items() if k not in ("prompt", "negative_prompt")}
    # Saved to the job's team, unless its author has lost the right to add to it since.
    team = None
    if job.team_id is not None:
        team = Team.objects.editable_by(job.owner).filter(pk=job.team_id).first()
    # The recipe travels in the file (gallery/metadata.py): two text chunks spliced in, the
    # image data untouched; the checksum and size below are those of the stored bytes.
    from gallery.metadata import embed_job_recipe

    content = embed_job_recipe(job, content)
    return create_image(
        job.owner,
        content,
        job=job,
        parent=job.parent_image,
        endpoint=job.endpoint,
        prompt=str(job.input.get("prompt", "")),
        negative_prompt=str(job.input.get("negative_prompt", "")),
        params=params,
        seed=job.seed,
        max_pixels=100_000_000,
        team=team,
    )


def delete_image_files(image: Image) -> None:
    for field in (image.file, image.thumbnail):
        if field.name:
            default_storage.delete(field.name)


# Where create_image stores files: images/<owner id>/ and thumbs/<owner id>/.
STORED_FILE_FOLDERS = ("images", "thumbs")


def remove_orphan_files(older_than: datetime.timedelta) -> list[str]:
    """Remove stored image files that no image row names, once older than ``older_than``.

    A process stopped between writing an image's files and inserting its row (a worker
    killed mid-save) leaves files that nothing points at. The age keeps this away from a
    save in progress: its files are younger than the grace by far. Returns what it removed.
    """
    removed: list[str] = []
    cutoff = timezone.now() - older_than
    for folder in STORED_FILE_FOLDERS:
        if not default_storage.exists(folder):
            continue
        owner_folders, _ = default_storage.listdir(folder)
        for owner_folder in owner_folders:
            if not owner_folder.isdigit():
                continue  # not one of ours
            prefix = f"{folder}/{owner_folder}/"
            _, files = default_storage.listdir(prefix)
            if not files:
                continue
            # Listed before reading the rows: a file saved after the listing is not judged.
            known = set()
            for name, thumbnail in Image.objects.filter(owner_id=int(owner_folder)).values_list(
                "file", "thumbnail"
            ):
                known.update((name, thumbnail))
            candidates = [
                prefix + file_name
                for file_name in files
                if prefix + file_name not in known
                and default_storage.get_modified_time(prefix + file_name) <= cutoff
            ]
            if candidates:
                # Named by another owner's row? (Paths keep the owner at creation.)
                named = Image.objects.filter(Q(file__in=candidates) | Q(thumbnail__in=candidates))
                for name, thumbnail in named.values_list("file", "thumbnail"):
                    known.update((name, thumbnail))
            for name in candidates:
                if name not in known:
                    default_storage.delete(name)
                    removed.append(name)
    return removed
