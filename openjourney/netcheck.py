"""Is a link safe to fetch? Plain Python, shared by the engine and the studio.

A link must be http(s), and every address its host resolves to must be public: private,
loopback, link-local (cloud metadata at 169.254.169.254 included), shared, reserved,
multicast and unspecified addresses are refused, and so are IPv6 forms carrying such an
IPv4 address (mapped, compatible, translated, NAT64, 6to4). Exact
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


# IPv6 prefixes that carry an IPv4 address in their last 32 bits, which is where a packet
# to them may end up: IPv4-compatible (deprecated), IPv4-translated (SIIT) and NAT64's
# well-known prefix. NAT64's local-use prefix (RFC 8215) is never public.
_EMBEDS_IPV4_LOW = [
    ipaddress.ip_network("::/96"),
    ipaddress.ip_network("::ffff:0:0:0/96"),
    ipaddress.ip_network("64:ff9b::/96"),
]
_NEVER_PUBLIC = [ipaddress.ip_network("64:ff9b:1::/48")]
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None and ip in _SIX_TO_FOUR:
        return ip.sixtofour
    if any(ip in network for network in _EMBEDS_IPV4_LOW) and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _NEVER_PUBLIC):
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return embedded.is_global and not embedded.is_multicast
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
