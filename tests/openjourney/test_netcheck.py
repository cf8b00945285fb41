"""Which links are safe to fetch: every spelling of a private address is refused.

No test here opens a connection: the checks resolve names only, through a patched resolver
for host names (IP literals are parsed by the system's resolver, which sends nothing).
"""

from __future__ import annotations

import re
import socket

import pytest

from openjourney.netcheck import UnsafeLink, check_link, is_public_address

REFUSED = "private, loopback or link-local"


@pytest.fixture(autouse=True)
def _no_real_dns(monkeypatch):
    real = socket.getaddrinfo
    names = {
        "photos.example": "93.184.216.34",
        "metadata.example": "169.254.169.254",
        "rebind.example": "127.0.0.1",
        "v6.example": "2606:4700::1111",
        "mapped.example": "::ffff:10.0.0.1",
    }

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            family = socket.AF_INET6 if ":" in names[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (names[host], port))]
        if ":" in host or re.fullmatch(r"[0-9][0-9a-fx.]*", host):
            return real(host, port, *args, **kwargs)  # a literal: parsed, nothing sent
        raise socket.gaierror(f"test resolver: {host} not allowed")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    "url",
    [
        # IPv4, however it is written
        "http://127.0.0.1/a.png",
        "http://127.1/a.png",
        "http://2130706433/a.png",  # decimal
        "http://017700000001/a.png",  # octal
        "http://0x7f.0.0.1/a.png",  # hexadecimal
        "http://0.0.0.0/a.png",
        "http://0/a.png",
        "http://10.0.0.1/a.png",
        "http://172.16.0.1/a.png",
        "http://192.168.0.1/a.png",
        "http://100.64.0.1/a.png",  # shared (carrier-grade NAT)
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://100.100.100.200/latest/meta-data/",  # Alibaba's metadata
        "http://192.0.0.170/a.png",
        "http://224.0.0.1/a.png",
        "http://255.255.255.255/a.png",
        # IPv6
        "http://[::1]/a.png",
        "http://[::]/a.png",
        "http://[fe80::1]/a.png",
        "http://[fd00:ec2::254]/a.png",  # AWS's IPv6 metadata
        "http://[fc00::1]/a.png",
        "http://[ff02::1]/a.png",
        # IPv4 inside IPv6: mapped, compatible, translated, NAT64, 6to4
        "http://[::ffff:127.0.0.1]/a.png",
        "http://[::ffff:7f00:1]/a.png",
        "http://[0:0:0:0:0:ffff:169.254.169.254]/a.png",
        "http://[::127.0.0.1]/a.png",
        "http://[::a9fe:a9fe]/a.png",
        "http://[::ffff:0:7f00:1]/a.png",
        "http://[64:ff9b::7f00:1]/a.png",
        "http://[64:ff9b::a9fe:a9fe]/a.png",
        "http://[64:ff9b:1::a00:1]/a.png",
        "http://[2002:7f00:1::]/a.png",
        "http://[2002:a9fe:a9fe::1]/a.png",
        # names resolving there
        "http://metadata.example/latest/meta-data/",
        "http://rebind.example/a.png",
        "http://mapped.example/a.png",
        "http://user:pw@rebind.example:8080/a.png",
    ],
)
def test_private_addresses_in_every_spelling_are_refused(url):
    with pytest.raises(UnsafeLink, match=REFUSED):
        check_link(url)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://photos.example/cat.png", "93.184.216.34"),
        ("https://v6.example/cat.png", "2606:4700::1111"),
        ("http://93.184.216.34/cat.png", "93.184.216.34"),
        ("http://[2606:4700::1111]/cat.png", "2606:4700::1111"),
        # 6to4 and NAT64 of a public IPv4 address are public too
        ("http://[2002:5db8:d822::1]/cat.png", "2002:5db8:d822::1"),
        ("http://[64:ff9b::5db8:d822]/cat.png", "64:ff9b::5db8:d822"),
    ],
)
def test_public_addresses_pass(url, address):
    assert check_link(url) == address


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://photos.example/a.png", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("http:///a.png", "no host"),
        ("http://[::1/a.png", "not a valid URL"),
        ("http://photos.example:99999/a.png", "not a valid URL"),
        ("http://nowhere.invalid/a.png", "does not resolve"),
    ],
)
def test_malformed_links_are_refused_with_a_reason(url, message):
    with pytest.raises(UnsafeLink, match=message):
        check_link(url)


def test_an_allowed_origin_passes_despite_its_address():
    assert check_link("http://127.0.0.1:9000/a.png", ["http://127.0.0.1:9000"]) == "127.0.0.1"
    with pytest.raises(UnsafeLink, match=REFUSED):
        check_link("http://127.0.0.1:9001/a.png", ["http://127.0.0.1:9000"])


@pytest.mark.parametrize("address", ["fe80::1%eth0", "::ffff:192.168.1.1", "64:ff9b::c0a8:101"])
def test_is_public_address_sees_through_zones_and_embedded_ipv4(address):
    assert not is_public_address(address)
