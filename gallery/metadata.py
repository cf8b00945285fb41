"""The recipe's links to the studio's own objects: signed media links and gallery images.

The recipe format itself (the PNG chunks, ours and other tools') is gallery/recipes.py and
openjourney/pngtext.py; this module holds what needs the database or the site's signing
key: which stored image a signed link names, the ``gallery:<id>`` references that replace
such links in a file, and a job's recipe as its result carries it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core import signing

from gallery.models import Image
from gallery.recipes import Recipe, embed_recipe
from openjourney.catalog import UnknownEndpoint, get_endpoint
from openjourney.links import MEDIA_LINK_PATH, MEDIA_LINK_SALT
from openjourney.pngtext import MalformedPng, is_png

GALLERY_REF = "gallery:"


def signed_link_name(url: object) -> str | None:
    """The storage name behind one of our signed media links (even an expired one).

    The signature is still checked: a forged link names nothing. Expiry is not, because the
    question here is which stored image a past job used, not whether it may be fetched now.
    """
    if not isinstance(url, str):
        return None
    path = urlsplit(url).path
    if MEDIA_LINK_PATH not in path:
        return None
    value = path.split(MEDIA_LINK_PATH, 1)[1]
    try:
        payload = signing.loads(value, salt=MEDIA_LINK_SALT)
    except signing.BadSignature:
        return None
    name = payload.get("n") if isinstance(payload, dict) else None
    return name if isinstance(name, str) else None


def image_for_name(name: str) -> Image | None:
    """The gallery image stored under ``name``, or None (uses the owner's index)."""
    images = Image.objects.filter(file=name)
    match = re.match(r"images/(\d+)/", name)
    if match:
        images = images.filter(owner_id=int(match.group(1)))
    return images.first()


def gallery_reference(url: object) -> str | None:
    """``gallery:<id>`` for one of our signed links, the link itself when it is someone
    else's, None when it is ours but its image is gone."""
    name = signed_link_name(url)
    if name is None:
        return url if isinstance(url, str) else None
    image = image_for_name(name)
    return f"{GALLERY_REF}{image.pk}" if image is not None else None


def gallery_reference_id(value: object) -> int | None:
    """The image id of a ``gallery:<id>`` reference, else None."""
    if isinstance(value, str) and value.startswith(GALLERY_REF):
        number = value[len(GALLERY_REF) :]
        if number.isdigit() and len(number) < 19:
            return int(number)
    return None


def recipe_for_job(job) -> Recipe:
    """The recipe of a job, as written into its result (links made gallery references)."""
    try:
        image_fields = {f.name for f in get_endpoint(job.endpoint).image_fields}
    except UnknownEndpoint:
        image_fields = set()
    params: dict[str, object] = {}
    for key, value in (job.input or {}).items():
        if key in ("prompt", "negative_prompt", "seed"):
            continue
        if key in image_fields:
            value = gallery_reference(value)
            if value is None:
                continue
        params[key] = value
    return Recipe(
        endpoint=job.endpoint,
        prompt=str(job.input.get("prompt", "")),
        negative_prompt=str(job.input.get("negative_prompt", "")),
        params=params,
        seed=job.seed,
    )


def lineage_for_job(job) -> dict[str, int | None]:
    return {"image": None, "parent": job.parent_image_id, "job": job.pk}


def embed_job_recipe(job, content: bytes) -> bytes:
    """A job's result with its recipe embedded when it is a PNG; anything else unchanged
    (a PNG too broken to walk is left for decode_raster to refuse with a clear message)."""
    if not is_png(content):
        return content
    try:
        return embed_recipe(content, recipe_for_job(job), lineage_for_job(job))
    except MalformedPng:
        return content
