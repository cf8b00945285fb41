"""Teams: members with roles, a shared gallery, an optional API token of their own."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


# What each role may do; the one place these rules live.
CAN_VIEW = {Role.OWNER, Role.EDITOR, Role.VIEWER}
CAN_EDIT = {Role.OWNER, Role.EDITOR}  # generate into and curate the team gallery
CAN_MANAGE = {Role.OWNER}  # members, settings, token, quota


class TeamQuerySet(models.QuerySet):
    def for_user(self, user) -> TeamQuerySet:
        return self.filter(memberships__user=user)

    def editable_by(self, user) -> TeamQuerySet:
        return self.filter(memberships__user=user, memberships__role__in=CAN_EDIT)


class Team(models.Model):
    name = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The team's own Openjourney token, encrypted at rest (teams/crypto.py); never shown again.
    api_token_encrypted = models.TextField(blank=True)
    api_token_last4 = models.CharField(max_length=4, blank=True)
    daily_job_quota = models.PositiveIntegerField(
        null=True, blank=True, help_text="Jobs each member may start a day; empty: no limit."
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("teams:detail", args=[self.pk])

    def role_of(self, user) -> str | None:
        if not getattr(user, "is_authenticated", False):
            return None
        membership = self.memberships.filter(user=user).only("role").first()
        return membership.role if membership else None


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_member_once"),
        ]
        indexes = [models.Index(fields=["user", "role"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class Activity(models.Model):
    """The team's log: who generated, shared, deleted, changed roles."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=40)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.actor} {self.verb} {self.detail}"


INVITE_DAYS = 7


class Invite(models.Model):
    """A link anyone signed in may use to join the team with ``role``, until revoked or expired.

    The link carries this row's id signed (teams.membership.invite_token); the row is the
    source of truth for the role, the expiry and revocation.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invites")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    # A random value in the signed link as well, so an id alone never makes a valid link.
    nonce = models.CharField(max_length=32)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked = models.BooleanField(default=False)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Invite to {self.team} as {self.role}"

    @property
    def expires_at(self):
        return self.created_at + timedelta(days=INVITE_DAYS)

    @property
    def is_live(self) -> bool:
        return not self.revoked and timezone.now() < self.expires_at
