"""Access to jobs: a job is its owner's alone; another user's answers 404."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from jobs.models import Job


def get_job_for(user, pk: int) -> Job:
    """The user's job, or 404 (another user's job is as absent as a missing one)."""
    return get_object_or_404(Job.objects.select_related("image"), pk=pk, owner=user)
