"""The database briefly unavailable to the worker: tasks retry, nothing is half-saved.

A real worker (threads, on Redis) runs the job path against the real engine; the fault is
an OperationalError injected into the statements the studio's tasks run at a chosen step.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from gallery.models import Image
from jobs.models import Job, Stage
from jobs.services import create_jobs
from openjourney.catalog import get_endpoint
from tests.conftest import wait_for_job_end
from tests.jobs.faults import database_fails, engine_jobs_for, studio_files

pytestmark = pytest.mark.django_db(transaction=True)


def submit(owner) -> Job:
    [job] = create_jobs(owner, get_endpoint("flux/schnell"), {"prompt": "a lighthouse"})
    return job


def ended(job: Job, timeout: float = 60) -> Job:
    return wait_for_job_end(job, timeout)


def assert_saved_once(job: Job) -> None:
    assert job.status == Stage.SUCCEEDED, job.error
    image = Image.objects.get(job=job)
    # Exactly the image's file and thumbnail are on disk: nothing written without a row.
    assert studio_files(settings.MEDIA_ROOT) == sorted([image.file.name, image.thumbnail.name])
    assert engine_jobs_for(job) == 1


def test_losing_the_database_while_saving_the_image_row(owner, studio_on_engine):
    with database_fails('INSERT INTO "gallery_image"', times=2) as failures:
        job = ended(submit(owner))
    assert failures == [2]
    assert_saved_once(job)


def test_losing_the_database_right_after_the_submit_reached_the_api(owner, studio_on_engine):
    # The engine has the job; the studio cannot record it. The retry finds it by its key.
    with database_fails('UPDATE "jobs_job"', '"upstream_id"') as failures:
        job = ended(submit(owner))
    assert failures == [1]
    assert_saved_once(job)


def test_losing_the_database_while_following(owner, studio_on_engine):
    with database_fails('FROM "jobs_job"', '"next_poll_at" <=', times=2) as failures:
        job = ended(submit(owner))
    assert failures == [2]
    assert_saved_once(job)


def test_losing_the_database_when_a_task_starts(owner, studio_on_engine):
    with database_fails('FROM "jobs_job"', 'WHERE "jobs_job"."id"', times=3) as failures:
        job = ended(submit(owner))
    assert failures == [3]
    assert_saved_once(job)
