"""The engine's tokens, jobs and fault switches."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from openjourney.catalog import JOB_STATUSES, TERMINAL_STATUSES

ACTIVE_STATUSES = tuple(s for s in JOB_STATUSES if s not in TERMINAL_STATUSES)
TOKEN_PREFIX = "oje_"  # noqa: S105 (a label, not a secret)


def hash_token(raw: str) -> str:
    """Tokens are stored as SHA-256: they are long random strings, so no salt is needed."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def for_bearer(self, raw: str) -> ApiToken | None:
        """The live token matching a bearer value, or None."""
        if not raw or len(raw) > 200:
            return None
        return self.select_related("user").filter(key_hash=hash_token(raw), revoked=False).first()


class ApiToken(models.Model):
    """A bearer token for the engine's API, owned by a user. Only its hash is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="engine_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False, help_text="For recognising it.")
    max_active_jobs = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the ENGINE_MAX_ACTIVE_JOBS setting."
    )
    revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def issue(cls, user, name: str = "") -> tuple[ApiToken, str]:
        """Create a token; the raw value is returned once and never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, key_hash=hash_token(raw), prefix=raw[: len(TOKEN_PREFIX) + 4]
        )
        return token, raw

    @property
    def active_job_limit(self) -> int:
        return self.max_active_jobs or settings.ENGINE_MAX_ACTIVE_JOBS


def new_job_id() -> str:
    return secrets.token_hex(12)


class Status(models.TextChoices):
    STARTING = "starting"
    BOOTING = "booting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class EngineJob(models.Model):
    """One request to a model or utility, from creation to its terminal status."""

    id = models.CharField(primary_key=True, max_length=32, default=new_job_id, editable=False)
    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="jobs")
    endpoint = models.CharField(max_length=100)
    input = models.JSONField(default=dict)
    seed = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.STARTING)
    output_file = models.CharField(max_length=200, blank=True)
    # When the output file left storage (delivered, or past ENGINE_OUTPUT_TTL): the name
    # stays, and its link answers 404.
    output_removed_at = models.DateTimeField(null=True, blank=True)
    output_text = models.TextField(blank=True)
    error = models.TextField(blank=True)
    # A fault chosen at submit time (job_fails, job_hangs, ...), for reliability tests.
    fault = models.CharField(max_length=30, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Progress of a backend that works in steps (diffusers): written as the job runs.
    step = models.PositiveIntegerField(null=True, blank=True)
    steps = models.PositiveIntegerField(null=True, blank=True)
    # A slow job on purpose finishes no earlier than this.
    ready_at = models.DateTimeField(null=True, blank=True)
    # The client's Idempotency-Key: a repeated POST with it returns the same job. NULL,
    # not "", when absent: the unique constraint holds only between given keys.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "idempotency_key"], name="engine_job_unique_idempotency_key"
            )
        ]
        indexes = [
            models.Index(fields=["token", "status"]),
            models.Index(fields=["status", "updated_at"]),
            models.Index(fields=["output_file"]),
            # The files still in storage, oldest first, for the TTL's sweep.
            models.Index(
                fields=["completed_at"],
                name="engine_job_output_kept",
                condition=models.Q(output_removed_at__isnull=True) & ~models.Q(output_file=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def predict_time(self) -> float | None:
        if self.started_at and self.completed_at:
            return round((self.completed_at - self.started_at).total_seconds(), 3)
        return None


class FaultKind(models.TextChoices):
    RATE_LIMIT = "rate_limit", "429 with Retry-After"
    SERVER_ERROR = "server_error", "5xx answer"
    SLOW = "slow", "slow answer (delay_ms)"
    MALFORMED_JSON = "malformed_json", "200 with a body that is not JSON"
    JOB_FAILS = "job_fails", "the job ends failed"
    JOB_HANGS = "job_hangs", "the job stays processing"
    JOB_SLOW = "job_slow", "the job takes delay_ms to finish (no worker waits meanwhile)"
    JOB_VANISHES = "job_vanishes", "the job answers 404 once created"
    OUTPUT_ERROR = "output_error", "the output URL answers 5xx"
    OUTPUT_NOT_IMAGE = "output_not_image", "the output URL serves something else"


class Fault(models.Model):
    """A fault on purpose, switched on in the admin for a path and, optionally, one token."""

    name = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True)
    kind = models.CharField(max_length=30, choices=FaultKind.choices)
    path = models.CharField(
        max_length=200,
        default="*",
        help_text="Endpoint slug pattern: 'flux/*', 'job', 'utils/upscale', '*'.",
    )
    method = models.CharField(max_length=6, blank=True, help_text="GET, POST or empty for both.")
    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.CASCADE)
    status_code = models.PositiveIntegerField(default=503)
    retry_after = models.PositiveIntegerField(default=1, help_text="Seconds, for rate_limit.")
    delay_ms = models.PositiveIntegerField(default=0, help_text="For slow.")
    remaining = models.PositiveIntegerField(
        null=True, blank=True, help_text="Fires this many more times; empty: always."
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name or f"{self.kind} on {self.path}"


class PipelineState(models.Model):
    """What a worker last learnt loading a diffusers pipeline folder, for internal/ping.

    The web process never loads a pipeline (nor imports torch): workers record here.
    """

    class Status(models.TextChoices):
        LOADED = "loaded"
        FAILED = "failed"

    folder = models.CharField(max_length=1000, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.TextField(blank=True)
    pipeline = models.CharField(max_length=100, blank=True, help_text="The pipeline's class.")
    device = models.CharField(max_length=20, blank=True)
    load_seconds = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.folder} ({self.status})"
