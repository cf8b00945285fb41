"""Files leave storage with their image: however the row goes (a delete, or a user's or a
team's deletion cascading), nothing is left behind in storage."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from gallery.models import Image


def _delete_stored(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


@receiver(post_delete, sender=Image, dispatch_uid="gallery.delete_image_files")
def delete_files_with_image(sender, instance: Image, using: str, **kwargs) -> None:
    """Once the deletion is committed (a rolled-back one keeps its files), remove the files."""
    names = [field.name for field in (instance.file, instance.thumbnail) if field.name]
    if names:
        transaction.on_commit(lambda: _delete_stored(names), using=using)
