"""Two runs of the saving task for one job (a redelivered or reconciled message) at once.

The race itself cannot be produced on demand by the engine, so the download of the losing
run is where the winning run's image appears: what a second worker would have done then.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from gallery.models import Image
from gallery.services import store_job_result
from jobs.models import Job, Stage
from jobs.tasks import store_result
from tests.jobs.faults import studio_files

PNG = (Path(__file__).parents[1] / "fixtures" / "coffee.png").read_bytes()


class ClientThatLosesTheRace:
    """Downloads the output; meanwhile the other run of the task stores it first."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        store_job_result(Job.objects.get(pk=self.job.pk), PNG, "image/png")
        return PNG, "image/png"


@pytest.mark.django_db
def test_the_run_that_loses_the_race_finishes_the_job_and_leaves_no_files(owner, monkeypatch):
    job = Job.objects.create(
        owner=owner,
        endpoint="flux/schnell",
        input={"prompt": "a lighthouse"},
        status=Stage.SAVING,
        output_url="http://127.0.0.1:9/out.png",
    )
    monkeypatch.setattr("jobs.upstream.get_client", lambda team=None: ClientThatLosesTheRace(job))

    store_result(job.pk)  # no IntegrityError escapes

    job.refresh_from_db()
    assert job.status == Stage.SUCCEEDED
    image = Image.objects.get(job=job)
    # The loser's file and thumbnail were removed with its rolled-back row.
    assert studio_files(settings.MEDIA_ROOT) == sorted([image.file.name, image.thumbnail.name])
