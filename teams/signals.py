"""The team's log hears of team images deleted anywhere (the gallery's detail or bulk delete)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver

from teams.middleware import current_actor
from teams.models import Team


def _deleting(origin, model) -> bool:
    return isinstance(origin, model) or (isinstance(origin, QuerySet) and origin.model is model)


@receiver(post_delete, sender="gallery.Image", dispatch_uid="teams.image_deleted")
def log_team_image_deleted(sender, instance, origin=None, **kwargs) -> None:
    from teams.membership import image_label, record

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
