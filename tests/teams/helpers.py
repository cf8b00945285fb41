"""Small helpers for the teams' tests: stored images, jobs, members, logged-in clients."""

from __future__ import annotations

import io
import itertools

from django.test import Client
from PIL import Image as PILImage

from gallery.models import Image
from gallery.services import create_image
from jobs.models import Job
from teams.models import Membership

_colours = itertools.count(1)

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<rect width="10" height="10" fill="#c33"/></svg>'
)


def png_bytes() -> bytes:
    n = next(_colours)
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 6), (n * 37 % 256, n * 91 % 256, n * 13 % 256)).save(buffer, "PNG")
    return buffer.getvalue()


def make_image(owner, *, team=None, prompt: str = "a lighthouse at dawn", svg: bool = False):
    """A stored gallery image (file and thumbnail), shared with ``team`` when given."""
    if svg:
        image = create_image(owner, SVG, prompt=prompt)
    else:
        image = create_image(owner, png_bytes(), prompt=prompt, endpoint="flux/dev")
    if team is not None:
        Image.objects.filter(pk=image.pk).update(team=team)
        image.refresh_from_db()
    return image


def make_job(owner, *, team=None, endpoint: str = "flux/dev", status: str = "succeeded", **kw):
    return Job.objects.create(
        owner=owner, team=team, endpoint=endpoint, input={"prompt": "x"}, status=status, **kw
    )


def join(team, user, role: str) -> Membership:
    return Membership.objects.create(team=team, user=user, role=role)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()
