"""Sharing an image: into one of its author's teams, or behind a public link that expires.

The links carry their row's id, signed; the row says whether it is still live.
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.utils import timezone

from gallery.models import Image, ShareLink
from teams.activity import image_label, record
from teams.membership import TeamRuleError
from teams.models import Team

# The salt the links were first signed with (when they were the teams app's): links made
# since then keep working.
SHARE_LINK_SALT = "teams.share-link"
SHARE_LINK_DAYS = (1, 7, 30)


def share_image(image: Image, by, team: Team | None) -> None:
    """Move one of ``by``'s images into a team (an editor's) or make it private again."""
    if image.owner_id != by.pk:
        raise TeamRuleError("Only the image's author can choose where it is shared.")
    if team is not None and not Team.objects.editable_by(by).filter(pk=team.pk).exists():
        raise TeamRuleError("You can only share with teams where you are an owner or editor.")
    old_team_id = image.team_id
    new_team_id = team.pk if team else None
    if old_team_id == new_team_id:
        return
    with transaction.atomic():
        image.team = team
        image.save(update_fields=["team"])
        if old_team_id is not None:
            record(old_team_id, by, "unshared", f"took {image_label(image)} out of the team")
        if team is not None:
            record(team, by, "shared", f"shared {image_label(image)}")


# --- public links -------------------------------------------------------------------------


def create_share_link(image: Image, by, days: int) -> ShareLink:
    if days not in SHARE_LINK_DAYS:
        raise TeamRuleError("Choose how long the link lasts: 1, 7 or 30 days.")
    link = ShareLink.objects.create(
        image=image, created_by=by, expires_at=timezone.now() + timedelta(days=days)
    )
    if image.team_id:
        record(image.team_id, by, "link_created", f"made a public link to {image_label(image)}")
    return link


def share_link_token(link: ShareLink) -> str:
    return signing.dumps(link.pk, salt=SHARE_LINK_SALT)


def read_share_link(value: str) -> ShareLink | None:
    """The live link behind a URL value; None when tampered with, expired or revoked."""
    try:
        pk = signing.loads(
            value, salt=SHARE_LINK_SALT, max_age=timedelta(days=max(SHARE_LINK_DAYS) + 1)
        )
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return ShareLink.objects.live().select_related("image").filter(pk=pk).first()


def revoke_share_link(link: ShareLink, by) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        if link.image.team_id:
            record(
                link.image.team_id,
                by,
                "link_revoked",
                f"withdrew a public link to {image_label(link.image)}",
            )
