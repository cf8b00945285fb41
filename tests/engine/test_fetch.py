"""Image links: what the engine fetches, what it reads from storage, and what it refuses.

No test here opens a connection beyond this machine: private addresses are refused before
any connection, and host names are resolved through a patched resolver.
"""

from __future__ import annotations

import io
import socket

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from engine.fetch import FetchRefused, fetch_image, resolve_checked
from engine.models import ApiToken, EngineJob, Status
from openjourney.links import MEDIA_LINK_SALT
from tests.engine.http_fixtures import FIXTURES, LoopbackServer
from tests.factories import UserFactory

PNG = (FIXTURES / "coffee.png").read_bytes()


@pytest.fixture
def loopback(settings):
    with LoopbackServer() as server:
        settings.ENGINE_FETCH_ALLOWED_ORIGINS = [server.origin]
        yield server


def fake_resolver(mapping: dict[str, str]):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in mapping:
            family = socket.AF_INET6 if ":" in mapping[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (mapping[host], port))]
        if host.replace(".", "").isdigit() or ":" in host:
            return real(host, port, *args, **kwargs)
        raise socket.gaierror(f"test resolver: {host} not allowed")

    return getaddrinfo


@pytest.fixture(autouse=True)
def _no_real_dns(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_resolver({"photos.example": "93.184.216.34"}))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/a.png", "private"),
        ("http://192.168.1.20/a.png", "private"),
        ("http://172.16.5.4/a.png", "private"),
        ("http://127.0.0.1:9/a.png", "loopback"),
        ("http://[::1]/a.png", "loopback"),
        ("http://[::ffff:127.0.0.1]/a.png", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/a.png", "link-local"),
        ("http://0.0.0.0/a.png", "private"),
        ("http://100.64.0.1/a.png", "private"),
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url, reason):
    with pytest.raises(FetchRefused, match="private, loopback or link-local"):
        resolve_checked(url)


def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_resolver({"intranet.example": "10.1.2.3"}))
    with pytest.raises(FetchRefused, match=r"intranet.example is 10.1.2.3"):
        resolve_checked("https://intranet.example/cat.png")


def test_public_address_passes_the_check():
    assert resolve_checked("https://photos.example/cat.png") == (
        "https://photos.example/cat.png",
        "93.184.216.34",
    )


@pytest.mark.parametrize("url", ["ftp://photos.example/a.png", "file:///etc/passwd", "gopher://x/"])
def test_only_http_and_https(url):
    with pytest.raises(FetchRefused, match="http or https"):
        resolve_checked(url)


def test_unresolvable_host_is_a_clear_refusal():
    with pytest.raises(FetchRefused, match="does not resolve"):
        resolve_checked("http://no-such-host.invalid/a.png")


@pytest.mark.django_db
def test_allowed_origin_is_fetched(loopback):
    url = loopback.route("/coffee.png", PNG, Content_Type="image/png")
    image = fetch_image(url, user_id=1)
    assert image.size == Image.open(io.BytesIO(PNG)).size


@pytest.mark.django_db
def test_other_port_on_an_allowed_host_is_still_refused(loopback):
    with pytest.raises(FetchRefused, match="loopback"):
        fetch_image("http://127.0.0.1:9/coffee.png", user_id=1)


@pytest.mark.django_db
def test_redirect_to_a_private_address_is_refused(loopback):
    url = loopback.route("/hop", b"", status=302, Location="http://10.0.0.7/secret.png")
    with pytest.raises(FetchRefused, match="private, loopback or link-local"):
        fetch_image(url, user_id=1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "location",
    [
        "http://metadata.example/latest/meta-data/",  # a name resolving to the metadata address
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "http://2852039166/latest/meta-data/",  # 169.254.169.254 as one decimal number
        "http://127.1:9/a.png",
    ],
)
def test_redirect_to_metadata_in_any_spelling_is_refused(loopback, monkeypatch, location):
    monkeypatch.setattr(
        socket, "getaddrinfo", fake_resolver({"metadata.example": "169.254.169.254"})
    )
    url = loopback.route("/hop", b"", status=302, Location=location)
    with pytest.raises(FetchRefused, match="private, loopback or link-local"):
        fetch_image(url, user_id=1)
    assert loopback.hits == ["/hop"]


@pytest.mark.django_db
def test_redirect_within_the_allowed_origin_is_followed(loopback):
    loopback.route("/coffee.png", PNG, Content_Type="image/png")
    url = loopback.route("/hop", b"", status=302, Location="/coffee.png")
    assert fetch_image(url, user_id=1).size[0] > 0
    assert loopback.hits == ["/hop", "/coffee.png"]


@pytest.mark.django_db
def test_redirect_loops_end(loopback):
    url = loopback.route("/loop", b"", status=302, Location="/loop")
    with pytest.raises(FetchRefused, match="redirected too many times"):
        fetch_image(url, user_id=1)


@pytest.mark.django_db
def test_error_status_is_reported(loopback):
    with pytest.raises(FetchRefused, match="answered HTTP 404"):
        fetch_image(loopback.origin + "/missing.png", user_id=1)


@pytest.mark.django_db
def test_not_an_image_is_refused(loopback):
    url = loopback.route("/page.html", b"<html>hello</html>", Content_Type="image/png")
    with pytest.raises(Exception, match="not an image"):
        fetch_image(url, user_id=1)


@pytest.mark.django_db
def test_oversized_body_is_refused(loopback, settings):
    settings.ENGINE_FETCH_MAX_BYTES = 1000
    url = loopback.route("/big.png", PNG, Content_Type="image/png")
    with pytest.raises(FetchRefused, match="larger than the engine accepts"):
        fetch_image(url, user_id=1)


@pytest.mark.django_db
def test_decompression_bomb_is_refused(loopback, settings):
    settings.ENGINE_MAX_IMAGE_PIXELS = 1_000_000
    buffer = io.BytesIO()
    Image.new("L", (4000, 4000)).save(buffer, "PNG")  # 16 MP of zeros: a few KB on the wire
    url = loopback.route("/bomb.png", buffer.getvalue(), Content_Type="image/png")
    with pytest.raises(Exception, match="too large"):
        fetch_image(url, user_id=1)


@pytest.mark.django_db
def test_engine_output_of_the_same_owner_is_read_from_storage_without_a_request():
    user = UserFactory()
    token, _ = ApiToken.issue(user)
    name = default_storage.save("engine/1/abc.png", ContentFile(PNG))
    EngineJob.objects.create(
        token=token, endpoint="flux/dev", status=Status.SUCCEEDED, output_file=name
    )
    # A host that resolves nowhere: reading it over the network would fail.
    image = fetch_image(f"http://studio.invalid:8123/engine/files/{name}", user_id=user.pk)
    assert image.size == Image.open(io.BytesIO(PNG)).size


@pytest.mark.django_db
def test_engine_output_of_another_owner_goes_through_the_network_rules():
    owner, stranger = UserFactory(), UserFactory()
    token, _ = ApiToken.issue(owner)
    name = default_storage.save("engine/1/abc.png", ContentFile(PNG))
    EngineJob.objects.create(
        token=token, endpoint="flux/dev", status=Status.SUCCEEDED, output_file=name
    )
    with pytest.raises(FetchRefused, match="loopback"):
        fetch_image(f"http://127.0.0.1:8000/engine/files/{name}", user_id=stranger.pk)


@pytest.mark.django_db
def test_signed_studio_media_link_is_read_from_storage():
    name = default_storage.save("uploads/photo.png", ContentFile(PNG))
    value = signing.dumps({"n": name}, salt=MEDIA_LINK_SALT)
    image = fetch_image(f"http://studio.invalid/media/signed/{value}", user_id=1)
    assert image.size == Image.open(io.BytesIO(PNG)).size


@pytest.mark.django_db
def test_tampered_studio_media_link_is_refused():
    name = default_storage.save("uploads/photo.png", ContentFile(PNG))
    value = signing.dumps({"n": name}, salt=MEDIA_LINK_SALT)
    forged = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    with pytest.raises(FetchRefused, match="invalid or has expired"):
        fetch_image(f"http://studio.invalid/media/signed/{forged}", user_id=1)
    other = signing.dumps({"n": "../../etc/passwd"}, salt="another-salt")
    with pytest.raises(FetchRefused, match="invalid or has expired"):
        fetch_image(f"http://studio.invalid/media/signed/{other}", user_id=1)
