"""Is a link safe to fetch? Plain Python, shared by the engine and the studio.

A link must be http(s), and every address its host resolves to must be public: private,
loopback, link-local (cloud metadata at 169.254.169.254 included), shared, reserved,
multicast and unspecified addresses are refused, IPv4-mapped IPv6 forms too. Exact
origins (scheme, host and port) may be allowed despite that, for local set-ups.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit


class UnsafeLink(ValueError):
    """A link that must not be fetched; the message says why, for people."""


def default_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def origin_of(url: str) -> str:
    """``scheme://host:port`` with the port always written, lower-cased."""
    parts = urlsplit(url.strip().lower())
    return f"{parts.scheme}://{parts.hostname}:{default_port(parts)}"


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_link(url: str, allowed_origins: Iterable[str] = ()) -> str:
    """The address to connect to for ``url``, or UnsafeLink naming the rule it breaks.

    Resolves the host once; connect to the address returned (not the name again), so a
    second DNS answer cannot point elsewhere.
    """
    try:
        parts = urlsplit(url)
        port = default_port(parts)
    except ValueError:
        raise UnsafeLink("The image link is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeLink("Image links must use http or https.")
    host = parts.hostname
    if not host:
        raise UnsafeLink("The image link has no host.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeLink(f"The image link's host {host!r} does not resolve.") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise UnsafeLink(f"The image link's host {host!r} does not resolve.")
    allowed = {origin_of(origin) for origin in allowed_origins if origin.strip()}
    if f"{parts.scheme}://{host}:{port}" in allowed:
        return addresses[0]
    for address in addresses:
        if not is_public_address(address):
            raise UnsafeLink(
                "Image links to private, loopback or link-local addresses are refused "
                f"({host} is {address.split('%', 1)[0]})."
            )
    return addresses[0]
