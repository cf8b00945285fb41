"""Turning a valid create form into jobs: image inputs become links the API can fetch."""

from __future__ import annotations

from django.db import transaction

from create.forms import EndpointForm
from gallery.links import signed_media_url
from gallery.models import Image
from gallery.services import InvalidResult, create_image, delete_image_files
from jobs.models import Job
from jobs.quota import TeamSubmitRefused
from jobs.services import create_jobs
from openjourney.catalog import Endpoint


class UploadRefused(Exception):
    """An upload the gallery would not keep; said under the form's ``field``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def image_link(owner, value: object, name: str = "image") -> tuple[str, Image | None]:
    """The URL to send for image input ``name``, and the gallery image it is (if any)."""
    if isinstance(value, Image):
        return signed_media_url(value.file.name, owner.pk), value
    if isinstance(value, str):
        return value, None
    # An upload: kept in the gallery, so the result can point back at it. The form looked
    # at its bytes already; whatever the gallery still refuses is the form's error too.
    try:
        upload = create_image(owner, value.read())
    except InvalidResult as refusal:
        raise UploadRefused(f"{name}_upload", str(refusal)) from None
    return signed_media_url(upload.file.name, owner.pk), upload


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

    When the chosen team refuses the submit (its daily quota was used up meanwhile), or the
    gallery refuses an upload, nothing is kept: the form gets the reason as an error (on
    the field concerned) and the result is an empty list.
    """
    uploads: list[Image] = []
    try:
        with transaction.atomic():
            body = dict(form.body)
            parent = None
            main_input = parent_input(form.endpoint)
            for name, value in form.image_inputs.items():
                url, image = image_link(form.user, value, name)
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
    except (TeamSubmitRefused, UploadRefused) as refusal:
        for upload in uploads:  # their rows were rolled back; their files go too
            delete_image_files(upload)
        field = refusal.field if isinstance(refusal, UploadRefused) else "save_to"
        form.add_error(field, str(refusal))
        return []
