"""The Job: the studio's record of one API call, from the form to the stored result."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from openjourney.catalog import get_endpoint


class Stage(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    STARTING = "starting", "Starting"
    BOOTING = "booting", "Booting"
    PROCESSING = "processing", "Processing"
    SAVING = "saving", "Saving"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL = (Stage.SUCCEEDED, Stage.FAILED, Stage.CANCELLED)
# Stages during which the upstream has the job and the follower polls it.
FOLLOWED = (Stage.STARTING, Stage.BOOTING, Stage.PROCESSING)
ACTIVE = tuple(stage for stage in Stage if stage not in TERMINAL)
# Where each stage sits on the progress bar, in percent.
PROGRESS = {
    Stage.QUEUED: 5,
    Stage.SUBMITTING: 10,
    Stage.STARTING: 20,
    Stage.BOOTING: 35,
    Stage.PROCESSING: 60,
    Stage.SAVING: 90,
    Stage.SUCCEEDED: 100,
    Stage.FAILED: 100,
    Stage.CANCELLED: 100,
}


class JobQuerySet(models.QuerySet):
    def for_user(self, user) -> JobQuerySet:
        return self.filter(owner=user)

    def active(self) -> JobQuerySet:
        return self.filter(status__in=ACTIVE)

    def update(self, **fields) -> int:
        # auto_now is applied by save() only: without this every task's update() would
        # leave updated_at at the job's creation, and the reconciler would take a job that
        # a task has just moved on (put back after a 429, handed to the saver) for lost.
        fields.setdefault("updated_at", timezone.now())
        return super().update(**fields)


class Job(models.Model):
    """One call to a model or utility of the API, and everything learnt about it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    endpoint = models.CharField(max_length=100)
    # The body sent to the API, the seed filled in where the endpoint takes one.
    input = models.JSONField(default=dict)
    seed = models.BigIntegerField(null=True, blank=True)
    batch = models.UUIDField(null=True, blank=True, db_index=True)
    # "Save to": the team whose gallery gets the result (and whose token runs the job).
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    parent_image = models.ForeignKey(
        "gallery.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="child_jobs",
    )
    # Sent as Idempotency-Key, so a submit retried after a crash is the same job upstream.
    submit_key = models.UUIDField(default=uuid.uuid4, editable=False)

    status = models.CharField(max_length=12, choices=Stage.choices, default=Stage.QUEUED)
    upstream_id = models.CharField(max_length=100, blank=True)
    upstream_status = models.CharField(max_length=20, blank=True)
    error = models.TextField(blank=True)
    output_url = models.URLField(max_length=2048, blank=True)
    output_text = models.TextField(blank=True)
    # The model's progress while processing, when the API reports steps (metrics.step/steps).
    step = models.PositiveIntegerField(null=True, blank=True)
    steps = models.PositiveIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Following: when to poll next, how often it was polled, how often submits were tried.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_count = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    # When its submit could not be put on the queue (Redis away): the job is kept, its card
    # says it waits for the queue, and the reconciler sends it as soon as the queue answers.
    enqueue_failed_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["status", "next_poll_at"]),
            models.Index(fields=["status", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} #{self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("jobs:detail", args=[self.pk])

    @property
    def spec(self):
        return get_endpoint(self.endpoint)

    @property
    def title(self) -> str:
        spec = self.spec
        return f"{spec.family.label} {spec.title}" if spec.is_model else spec.title

    @property
    def waiting_for_queue(self) -> bool:
        """Created, but not yet on the queue: it was away when the job was submitted."""
        return self.status == Stage.QUEUED and self.enqueue_failed_at is not None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def progress(self) -> int:
        """Percent of the progress bar; while processing, the model's steps move it on."""
        if self.status == Stage.PROCESSING and self.steps:
            start, end = PROGRESS[Stage.BOOTING] + 5, PROGRESS[Stage.SAVING] - 5
            return start + round((end - start) * min(self.step or 0, self.steps) / self.steps)
        return PROGRESS[Stage(self.status)]

    @property
    def shows_steps(self) -> bool:
        return self.status == Stage.PROCESSING and bool(self.steps)

    @property
    def prompt(self) -> str:
        return str(self.input.get("prompt", ""))

    @property
    def elapsed_seconds(self) -> float:
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.created_at).total_seconds())
