"""Images: every result kept with its recipe, files stored with Django's storage API; their
favourites, collections and public links."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from studio.lib.pk_urls import pk_url
from teams.models import CAN_EDIT, Membership


class ImageQuerySet(models.QuerySet):
    def for_user(self, user) -> ImageQuerySet:
        """The user's own images (their private ones and those they shared)."""
        return self.filter(owner=user)

    def visible_to(self, user) -> ImageQuerySet:
        """Images the user may see: their own, and those of teams they belong to."""
        teams = Membership.objects.filter(user=user).values("team_id")
        return self.filter(models.Q(owner=user) | models.Q(team_id__in=teams))

    def editable_by(self, user) -> ImageQuerySet:
        """Images the user may change or delete: their own, and their teams' as an editor."""
        teams = Membership.objects.filter(user=user, role__in=CAN_EDIT).values("team_id")
        return self.filter(models.Q(owner=user) | models.Q(team_id__in=teams))

    # --- search (gallery/search.py) ------------------------------------------------------

    def matching(self, text: str) -> ImageQuerySet:
        """Every word of ``text`` in the prompt or the negative prompt, any case."""
        images = self
        for word in text.split():
            images = images.filter(
                models.Q(prompt__icontains=word) | models.Q(negative_prompt__icontains=word)
            )
        return images

    def older_than(self, created_at, pk: int) -> ImageQuerySet:
        """Keyset pagination, newest first: the images after (created_at, pk).

        ``created_at <= c`` on its own bounds the index range; the OR breaks the ties.
        """
        return self.filter(created_at__lte=created_at).filter(
            models.Q(created_at__lt=created_at) | models.Q(created_at=created_at, pk__lt=pk)
        )

    def in_collection(self, collection) -> ImageQuerySet:
        """In the collection: its (few) rows drive the query, by the (collection, image) key."""
        through = Collection.images.through
        return self.filter(
            pk__in=through.objects.filter(collection_id=collection.pk).values("image_id")
        )

    def starred_by(self, user) -> ImageQuerySet:
        """The user's favourites: driven by the (user, image) key of their stars."""
        return self.filter(pk__in=Favourite.objects.filter(user=user).values("image_id"))


def image_path(instance: Image, filename: str) -> str:
    return f"images/{instance.owner_id}/{filename}"


def thumbnail_path(instance: Image, filename: str) -> str:
    return f"thumbs/{instance.owner_id}/{filename}"


class Image(models.Model):
    """A stored result (or upload) with the recipe that made it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="images"
    )
    # Shared with one of the author's teams, or private (None).
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="images"
    )
    job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="image"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    endpoint = models.CharField(max_length=100, blank=True, help_text="Empty for an upload.")
    prompt = models.TextField(blank=True)
    negative_prompt = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)

    file = models.FileField(upload_to=image_path, max_length=300)
    thumbnail = models.FileField(upload_to=thumbnail_path, max_length=300, blank=True)
    content_type = models.CharField(max_length=50)
    format = models.CharField(max_length=10)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the file.")
    placeholder = models.CharField(max_length=7, default="#888888", help_text="Mean colour.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"]),
            models.Index(fields=["team", "-created_at", "-id"]),
            models.Index(fields=["endpoint", "-created_at"]),
            # The gallery's model filter, in date order, on each part of the visible set
            # (the user's own images, each team's): gallery/search.py.
            models.Index(
                fields=["owner", "endpoint", "-created_at", "-id"], name="gallery_owner_model_idx"
            ),
            models.Index(
                fields=["team", "endpoint", "-created_at", "-id"], name="gallery_team_model_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Image #{self.pk} ({self.endpoint or 'upload'})"

    def get_absolute_url(self) -> str:
        return pk_url("gallery:detail", self.pk)

    # The links every tile shows: properties rather than {% url %} tags, because a page of
    # tiles would reverse them 150 times (studio/lib/pk_urls.py).
    @property
    def thumbnail_url(self) -> str:
        return pk_url("gallery:thumbnail", self.pk)

    @property
    def favourite_url(self) -> str:
        return pk_url("gallery:favourite", self.pk)

    @property
    def is_svg(self) -> bool:
        return self.format == "svg"


class Favourite(models.Model):
    """A user's star on an image."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites"
    )
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "image"], name="favourite_once")]

    def __str__(self) -> str:
        return f"{self.user} ★ {self.image_id}"


class Collection(models.Model):
    """A named board of images; an image may be in several."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections"
    )
    name = models.CharField(max_length=100)
    images = models.ManyToManyField(Image, related_name="collections", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="collection_name_once")
        ]

    def __str__(self) -> str:
        return self.name


class ShareLinkQuerySet(models.QuerySet):
    def live(self) -> ShareLinkQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ShareLink(models.Model):
    """A public, expiring, revocable link to one image (the URL carries its id, signed)."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # The table it had in the teams app (moved without touching the data).
        db_table = "teams_sharelink"

    def __str__(self) -> str:
        return f"Public link to image #{self.image_id}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and timezone.now() < self.expires_at
