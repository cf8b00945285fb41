"""Files leave storage with their image: however the row goes (a delete, or a user's or a
team's deletion cascading), nothing is left behind in storage. And a team's log hears of its
images deleted anywhere (the gallery's detail or bulk delete)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver

from gallery.models import Image
from teams.activity import image_label, record
from teams.middleware import current_actor
from teams.models import Team


def _delete_stored(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


@receiver(post_delete, sender=Image, dispatch_uid="gallery.delete_image_files")
def delete_files_with_image(sender, instance: Image, using: str, **kwargs) -> None:
    """Once the deletion is committed (a rolled-back one keeps its files), remove the files."""
    names = [field.name for field in (instance.file, instance.thumbnail) if field.name]
    if names:
        transaction.on_commit(lambda: _delete_stored(names), using=using)


def _deleting(origin, model) -> bool:
    return isinstance(origin, model) or (isinstance(origin, QuerySet) and origin.model is model)


@receiver(post_delete, sender=Image, dispatch_uid="teams.image_deleted")
def log_team_image_deleted(sender, instance, origin=None, **kwargs) -> None:
    if instance.team_id is None or _deleting(origin, Team):
        return  # a private image, or the team itself is going (its log goes with it)
    if _deleting(origin, get_user_model()):
        # The author's account is being deleted; the actor may be that very account.
        record(
            instance.team_id,
            None,
            "removed_with_account",
            f"{image_label(instance)} was removed with its author's account",
        )
        return
    record(instance.team_id, current_actor(), "deleted", f"deleted {image_label(instance)}")
