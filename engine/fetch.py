"""Fetching the image links of utility requests, safely.

A link to the engine's own output, or a signed link to the studio's media (the seam:
``engine/studio_media.py``), is read from storage directly (no request; the first only when
the token's owner made that output).
Any other link must be http(s) on a public address, unless its exact origin is allowed in
``ENGINE_FETCH_ALLOWED_ORIGINS``; every redirect is checked again, the connection goes to
the address that was checked (no second DNS answer), and the body is capped in size and
time.
"""

from __future__ import annotations

from urllib.parse import unquote, urljoin, urlsplit

import httpx
from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image

from engine.models import EngineJob
from engine.render.utilities.errors import UtilityError
from engine.render.utilities.images import open_image
from engine.studio_media import InvalidMediaLink, media_link_name
from openjourney.links import ENGINE_FILES_PATH
from openjourney.netcheck import UnsafeLink, check_link, default_port

MAX_REDIRECTS = 3


class FetchRefused(UtilityError):
    """An image link the engine will not or could not fetch; the message says why."""


def resolve_checked(url: str) -> tuple[str, str]:
    """The (url, address) to connect to, or FetchRefused naming the rule the link breaks."""
    try:
        return url, check_link(url, settings.ENGINE_FETCH_ALLOWED_ORIGINS)
    except UnsafeLink as exc:
        raise FetchRefused(str(exc)) from None


def _read_storage(name: str) -> bytes:
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read(settings.ENGINE_FETCH_MAX_BYTES + 1)
    except (FileNotFoundError, OSError):
        raise FetchRefused("The linked file no longer exists.") from None
    if len(data) > settings.ENGINE_FETCH_MAX_BYTES:
        raise FetchRefused("The linked image is larger than the engine accepts.")
    return data


def _local_bytes(url: str, user_id: int) -> bytes | None:
    """A link to our own output or the studio's media, read from storage; None for any
    other link."""
    path = unquote(urlsplit(url).path)
    if path.startswith(ENGINE_FILES_PATH):
        name = path.removeprefix(ENGINE_FILES_PATH)
        job = (
            EngineJob.objects.filter(output_file=name, token__user_id=user_id)
            .only("output_file")
            .first()
        )
        return _read_storage(job.output_file) if job else None
    try:
        name = media_link_name(path)
    except InvalidMediaLink as exc:
        raise FetchRefused(str(exc)) from None
    return _read_storage(name) if name is not None else None


def _download(url: str) -> bytes:
    limit = settings.ENGINE_FETCH_MAX_BYTES
    timeout = httpx.Timeout(settings.ENGINE_FETCH_TIMEOUT, connect=5)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            checked_url, address = resolve_checked(url)
            parts = urlsplit(checked_url)
            host_for_url = f"[{address}]" if ":" in address else address
            pinned = parts._replace(netloc=f"{host_for_url}:{default_port(parts)}")
            request = client.build_request(
                "GET",
                pinned.geturl(),
                headers={"Host": parts.netloc.rsplit("@", 1)[-1], "Accept": "image/*"},
                extensions={"sni_hostname": parts.hostname},
            )
            try:
                response = client.send(request, stream=True)
            except httpx.TimeoutException:
                raise FetchRefused("The image link timed out.") from None
            except httpx.HTTPError as exc:
                raise FetchRefused(
                    f"The image link could not be fetched ({exc.__class__.__name__})."
                ) from None
            try:
                if response.is_redirect:
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchRefused("The image link redirected nowhere.")
                    url = urljoin(url, location)
                    continue
                if response.status_code != 200:
                    raise FetchRefused(f"The image link answered HTTP {response.status_code}.")
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise FetchRefused("The linked image is larger than the engine accepts.")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise FetchRefused("The linked image is larger than the engine accepts.")
                    chunks.append(chunk)
                return b"".join(chunks)
            except httpx.TimeoutException:
                raise FetchRefused("The image link timed out.") from None
            finally:
                response.close()
    raise FetchRefused("The image link redirected too many times.")


def fetch_image(url: str, user_id: int) -> Image.Image:
    """The decoded image behind ``url`` for a request by ``user_id``'s token."""
    data = _local_bytes(url, user_id)
    if data is None:
        data = _download(url)
    return open_image(data, max_pixels=settings.ENGINE_MAX_IMAGE_PIXELS)
