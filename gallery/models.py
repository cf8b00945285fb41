"""Images: every result kept with its recipe, files stored with Django's storage API."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class ImageQuerySet(models.QuerySet):
    def for_user(self, user) -> ImageQuerySet:
        """The user's own images (their private ones and those they shared)."""
        return self.filter(owner=user)

    def visible_to(self, user) -> ImageQuerySet:
        """Images the user may see: their own, and those of teams they belong to."""
        from teams.models import Membership

        teams = Membership.objects.filter(user=user).values("team_id")
        return self.filter(models.Q(owner=user) | models.Q(team_id__in=teams))

    def editable_by(self, user) -> ImageQuerySet:
        """Images the user may change or delete: their own, and their teams' as an editor."""
        from teams.models import CAN_EDIT, Membership

        teams = Membership.objects.filter(user=user, role__in=CAN_EDIT).values("team_id")
        return self.filter(models.Q(owner=user) | models.Q(team_id__in=teams))


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
        ]

    def __str__(self) -> str:
        return f"Image #{self.pk} ({self.endpoint or 'upload'})"

    def get_absolute_url(self) -> str:
        return reverse("gallery:detail", args=[self.pk])

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
