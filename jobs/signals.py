"""An image deleted takes the engine's copy of its job's result with it."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from gallery.models import Image


@receiver(post_delete, sender=Image, dispatch_uid="jobs.release_output_with_image")
def release_output_with_image(sender, instance: Image, using: str, **kwargs) -> None:
    """Once the deletion is committed, ask the engine to remove the job's output (usually
    gone already: it is released as soon as the result is stored)."""
    if instance.job_id is None:
        return
    from jobs.tasks import release_upstream_output

    job_id = instance.job_id
    # Robust: a broker that is away must not fail the deletion; the engine's TTL remains.
    transaction.on_commit(lambda: release_upstream_output.delay(job_id), using=using, robust=True)
