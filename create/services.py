"""Turning a valid create form into jobs: image inputs become links the API can fetch."""

from __future__ import annotations

from django.db import transaction

from create.forms import EndpointForm
from gallery.links import signed_media_url
from gallery.models import Image
from gallery.services import create_image, delete_image_files
from jobs.models import Job
from jobs.quota import TeamSubmitRefused
from jobs.services import create_jobs
from openjourney.catalog import Endpoint


def image_link(owner, value: object) -> tuple[str, Image | None]:
    """The URL to send for one image input, and the gallery image it is (if any)."""
    if isinstance(value, Image):
        return signed_media_url(value.file.name), value
    if isinstance(value, str):
        return value, None
    # An upload: kept in the gallery, so the result can point back at it.
    upload = create_image(owner, value.read(), declared_type=value.content_type or "")
    return signed_media_url(upload.file.name), upload


def parent_input(endpoint: Endpoint) -> str | None:
    """The image input a result is made from (its parent in the gallery's lineage).

    Face swap's parent is its target, the picture that is kept; the source only lends a face.
    """
    names = [spec.name for spec in endpoint.image_fields]
    if "target" in names:
        return "target"
    return names[0] if names else None


def submit_form(form: EndpointForm) -> list[Job]:
    """Create the jobs of a valid form.

    When the chosen team refuses the submit (its daily quota was used up meanwhile), nothing
    is kept: the form gets the reason as an error and the result is an empty list.
    """
    uploads: list[Image] = []
    try:
        with transaction.atomic():
            body = dict(form.body)
            parent = None
            main_input = parent_input(form.endpoint)
            for name, value in form.image_inputs.items():
                url, image = image_link(form.user, value)
                if image is not None and image is not value:
                    uploads.append(image)
                body[name] = url
                if name == main_input:
                    parent = image
            count = form.cleaned_data.get("count") or 1
            return create_jobs(
                form.user,
                form.endpoint,
                body,
                count=count,
                seed_locked=bool(form.cleaned_data.get("seed_locked")),
                parent_image=parent,
                team=form.team,
            )
    except TeamSubmitRefused as refusal:
        for upload in uploads:  # their rows were rolled back; their files go too
            delete_image_files(upload)
        form.add_error("save_to", str(refusal))
        return []
