"""The engine's copy of a result leaves once the studio has stored it, and with the image;
the studio's pages link to the studio's own copy. A real worker and the real engine."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from engine.models import ApiToken, EngineJob, Status
from gallery.models import Image
from gallery.services import create_image
from jobs.models import Job, Stage
from tests.conftest import wait_for, wait_for_job_end
from tests.engine.http_fixtures import FIXTURES

pytestmark = pytest.mark.django_db(transaction=True)
PNG = (FIXTURES / "coffee.png").read_bytes()


def test_a_stored_result_leaves_the_engine(owner_client, studio_on_engine):
    owner_client.post(
        reverse("create:create-endpoint", args=["flux/schnell"]), {"prompt": "a fox", "count": 1}
    )
    job = wait_for_job_end(Job.objects.get(), 30)
    assert job.status == Stage.SUCCEEDED, job.error
    engine_file = EngineJob.objects.get(pk=job.upstream_id).output_file
    image = Image.objects.get(job=job)

    wait_for(
        lambda: not default_storage.exists(engine_file),
        timeout=15,
        message="the engine still has its copy of the stored result",
    )
    assert default_storage.exists(image.file.name)
    # The studio's pages link to the studio's copy, never to the engine's.
    for page in (
        reverse("jobs:detail", args=[job.pk]),
        reverse("jobs:card", args=[job.pk]),
        reverse("gallery:detail", args=[image.pk]),
        reverse("gallery:list"),
    ):
        html = owner_client.get(page).content.decode()
        assert "/engine/" not in html, page
        assert job.output_url not in html, page


def test_deleting_an_image_removes_the_engine_copy(
    owner, owner_client, studio_on_engine, engine_token
):
    # A result whose engine copy is still there (its release was lost: an engine away).
    name = default_storage.save("engine/9/still-there.png", ContentFile(PNG))
    upstream = EngineJob.objects.create(
        token=ApiToken.objects.for_bearer(engine_token),
        endpoint="flux/schnell",
        status=Status.SUCCEEDED,
        output_file=name,
    )
    job = Job.objects.create(
        owner=owner,
        endpoint="flux/schnell",
        input={"prompt": "a fox"},
        status=Stage.SUCCEEDED,
        upstream_id=upstream.pk,
        output_url=f"{studio_on_engine.url}/engine/files/{name}",
    )
    image = create_image(owner, PNG, job=job, endpoint="flux/schnell", prompt="a fox")

    response = owner_client.post(reverse("gallery:delete"), {"ids": [image.pk]})

    assert response.status_code == 302
    wait_for(
        lambda: not default_storage.exists(name),
        timeout=15,
        message="the engine's copy outlived the image",
    )
