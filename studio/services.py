"""Turning a valid create form into jobs: image inputs become links the API can fetch."""

from __future__ import annotations

from django.db import transaction

from gallery.links import signed_media_url
from gallery.models import Image
from gallery.services import create_image
from jobs.models import Job
from jobs.services import create_jobs
from studio.forms import EndpointForm


def image_link(owner, value: object) -> tuple[str, Image | None]:
    """The URL to send for one image input, and the gallery image it is (if any)."""
    if isinstance(value, Image):
        return signed_media_url(value.file.name), value
    if isinstance(value, str):
        return value, None
    # An upload: kept in the gallery, so the result can point back at it.
    upload = create_image(owner, value.read(), declared_type=value.content_type or "")
    return signed_media_url(upload.file.name), upload


@transaction.atomic
def submit_form(form: EndpointForm) -> list[Job]:
    """Create the jobs of a valid form."""
    body = dict(form.body)
    parent = None
    for name, value in form.image_inputs.items():
        url, image = image_link(form.user, value)
        body[name] = url
        parent = parent or image
    count = form.cleaned_data.get("count") or 1
    return create_jobs(
        form.user,
        form.endpoint,
        body,
        count=count,
        seed_locked=bool(form.cleaned_data.get("seed_locked")),
        parent_image=parent,
    )
