"""Fetching the image links of utility requests, safely.

A link to the engine's own output, or a signed link to the studio's media (the seam:
``engine/studio_media.py``), is read from storage directly (no request; the first only when
the token's owner made that output).
Any other link must be http(s) on a public address, unless its exact origin is allowed in
``ENGINE_FETCH_ALLOWED_ORIGINS``; every redirect is checked again, the connection goes to
the address that was checked (no second DNS answer), and the body is capped in size and
in time: ``ENGINE_FETCH_TIMEOUT`` seconds for the whole fetch, however slowly a server sends
(openjourney/deadline.py). Every refusal is a FetchRefused whose message says what was wrong.
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
from openjourney.deadline import DeadlineTransport, deadline, deadline_spent
from openjourney.links import ENGINE_FILES_PATH
from openjourney.netcheck import UnsafeLink, check_link, default_port

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CONNECT_TIMEOUT = 5.0


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


def _shown(url: str) -> str:
    """A link as a sentence names it: host and path, shortened, never the query (it may
    carry a signed link's secret); a link that is not http(s), by its scheme alone
    ("data:…")."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "an invalid link"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return f"{scheme}:…" if scheme.isalnum() else "an invalid link"
    shown = (parts.hostname or "") + (parts.path if parts.path != "/" else "")
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _checked(url: str, redirected: bool, seconds: float) -> httpx.Request:
    """The request for ``url`` to the address checked, or FetchRefused naming the rule
    broken (and, after a redirect, where it led)."""
    try:
        _, address = resolve_checked(url)
        return _pinned_request(url, address, seconds)
    except (FetchRefused, httpx.InvalidURL, UnicodeError, ValueError) as exc:
        reason = str(exc) if isinstance(exc, FetchRefused) else "The image link is not a valid URL."
        if not redirected:
            raise FetchRefused(reason) from None
        raise FetchRefused(f"The image link redirected to {_shown(url)}. {reason}") from None


def _pinned_request(url: str, address: str, seconds: float) -> httpx.Request:
    """A GET sent to the checked ``address`` and port (both from the parse that was
    checked); the Host header and TLS SNI keep the name."""
    parts = urlsplit(url)
    name = (parts.hostname or "").encode("idna").decode("ascii")
    host = f"[{name}]" if ":" in name else name
    pinned_host = f"[{address}]" if ":" in address else address
    pinned = parts._replace(netloc=f"{pinned_host}:{default_port(parts)}", fragment="")
    return httpx.Request(
        "GET",
        pinned.geturl(),
        headers={
            "Host": f"{host}:{parts.port}" if parts.port else host,
            "Accept": "image/*",
        },
        extensions={
            "sni_hostname": name,
            "timeout": {"connect": CONNECT_TIMEOUT, "read": seconds, "write": seconds, "pool": 1},
        },
    )


def _follow(transport: httpx.BaseTransport, links: list[str], seconds: float) -> bytes:
    """The body at the end of ``links[-1]``'s redirects; each link followed is appended."""
    limit = settings.ENGINE_FETCH_MAX_BYTES
    for _ in range(MAX_REDIRECTS + 1):
        url = links[-1]
        request = _checked(url, redirected=len(links) > 1, seconds=seconds)
        # The transport, not a client: httpx's client reads a redirect's Location itself
        # (and fails on some, a data: link for one); here every hop is checked by our rules.
        response = transport.handle_request(request)
        try:
            if response.status_code in REDIRECT_STATUSES:
                location = response.headers.get("Location", "").strip()
                if not location:
                    raise FetchRefused("The image link redirected nowhere.")
                try:
                    links.append(urljoin(url, location))
                except ValueError:
                    raise FetchRefused("The image link redirected to an invalid link.") from None
                continue
            if response.status_code != 200:
                raise FetchRefused(f"The image link answered HTTP {response.status_code}.")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchRefused("The linked image is larger than the engine accepts.")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchRefused("The linked image is larger than the engine accepts.")
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            response.close()
    raise FetchRefused("The image link redirected too many times.")


def _download(url: str) -> bytes:
    """The body behind ``url``, within ENGINE_FETCH_TIMEOUT seconds in all: connecting,
    every redirect and every byte, however slowly the server sends them."""
    seconds = settings.ENGINE_FETCH_TIMEOUT
    links = [url]
    with DeadlineTransport() as transport, deadline(seconds):
        try:
            return _follow(transport, links, seconds)
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout) and not deadline_spent():
                raise FetchRefused(
                    f"The server of the image at {_shown(links[-1])} did not answer within "
                    f"{CONNECT_TIMEOUT:g} s."
                ) from None
            raise FetchRefused(
                f"The image at {_shown(url)} took longer than {seconds:g} s to download."
            ) from None
        except httpx.ConnectError:
            raise FetchRefused(
                f"The server of the image at {_shown(links[-1])} could not be reached."
            ) from None
        except httpx.HTTPError as exc:  # a broken connection or answer
            raise FetchRefused(
                f"The download of the image at {_shown(links[-1])} broke off "
                f"({exc.__class__.__name__})."
            ) from None


def fetch_image(url: str, user_id: int) -> Image.Image:
    """The decoded image behind ``url`` for a request by ``user_id``'s token."""
    data = _local_bytes(url, user_id)
    if data is None:
        data = _download(url)
    return open_image(data, max_pixels=settings.ENGINE_MAX_IMAGE_PIXELS)
