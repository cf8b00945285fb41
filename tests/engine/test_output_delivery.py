"""The engine's output files are a delivery cache: served to whom the job belongs (a token
of its owner, or the signed, expiring link its ``output`` is), and removed when the owner
deletes them or after ENGINE_OUTPUT_TTL."""

from __future__ import annotations

import datetime
import json
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from engine.delivery import remove_expired_outputs
from engine.models import ApiToken, EngineJob, Status
from tests.engine.http_fixtures import FIXTURES
from tests.factories import UserFactory

PNG = (FIXTURES / "coffee.png").read_bytes()
pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_token():
    return ApiToken.issue(UserFactory(username="engine-owner"))


@pytest.fixture
def done(owner_token) -> EngineJob:
    """A job of the owner's that succeeded with a file in storage."""
    name = default_storage.save("engine/1/Xb2q1-delivered.png", ContentFile(PNG))
    now = timezone.now()
    return EngineJob.objects.create(
        token=owner_token[0],
        endpoint="flux/dev",
        status=Status.SUCCEEDED,
        output_file=name,
        started_at=now,
        completed_at=now,
    )


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def output_link(client, job: EngineJob, raw: str) -> str:
    """The job's ``output`` as the API gives it, as a path with its query."""
    payload = client.get(f"/engine/v1/job/{job.pk}", headers=bearer(raw)).json()
    parts = urlsplit(payload["output"])
    return f"{parts.path}?{parts.query}"


def test_signed_out_the_file_is_absent(client, done):
    response = client.get(f"/engine/files/{done.output_file}")
    assert response.status_code == 404
    assert json.loads(response.content) == {"detail": "No such file."}


def test_the_jobs_output_is_a_link_any_client_can_get(client, done, owner_token):
    link = output_link(client, done, owner_token[1])
    assert link.startswith(f"/engine/files/{done.output_file}?expires=")
    response = client.get(link)  # no token: the link is enough, as the hosted service's
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Cache-Control"] == "private, max-age=900"
    assert response["Content-Security-Policy"].endswith("; sandbox")


def test_the_owners_token_needs_no_link(client, done, owner_token):
    response = client.get(f"/engine/files/{done.output_file}", headers=bearer(owner_token[1]))
    assert response.status_code == 200


def test_another_users_token_a_tampered_or_expired_link_get_404(
    client, done, owner_token, settings
):
    _, theirs = ApiToken.issue(UserFactory(username="someone-else"))
    path = f"/engine/files/{done.output_file}"
    assert client.get(path, headers=bearer(theirs)).status_code == 404
    link = output_link(client, done, owner_token[1])
    assert client.get(link[:-2] + ("AA" if not link.endswith("AA") else "BB")).status_code == 404
    expires = link.split("expires=")[1].split("&")[0]
    later = link.replace(f"expires={expires}", f"expires={int(expires) + 3600}")
    assert client.get(later).status_code == 404  # the signature covers the expiry
    other = default_storage.save("engine/1/other.png", ContentFile(PNG))
    EngineJob.objects.create(token=done.token, endpoint="flux/dev", output_file=other)
    assert client.get(link.replace(done.output_file, other)).status_code == 404  # its name too

    settings.ENGINE_OUTPUT_LINK_SECONDS = -1  # links expire as they are made
    assert client.get(output_link(client, done, owner_token[1])).status_code == 404


def test_the_owner_deletes_the_file_and_its_link_is_gone(client, done, owner_token):
    link = output_link(client, done, owner_token[1])
    _, theirs = ApiToken.issue(UserFactory(username="someone-else"))
    path = f"/engine/files/{done.output_file}"

    assert client.delete(path).status_code == 404  # signed out
    assert client.delete(link).status_code == 404  # a link fetches; it does not delete
    assert client.delete(path, headers=bearer(theirs)).status_code == 404
    assert default_storage.exists(done.output_file)

    assert client.delete(path, headers=bearer(owner_token[1])).status_code == 204
    assert not default_storage.exists(done.output_file)
    assert client.get(link).status_code == 404
    assert client.get(path, headers=bearer(owner_token[1])).status_code == 404
    assert client.delete(path, headers=bearer(owner_token[1])).status_code == 404
    done.refresh_from_db()
    assert done.output_removed_at is not None and done.status == Status.SUCCEEDED


def test_files_past_the_ttl_are_removed_by_the_periodic_task(done, owner_token, settings):
    from engine.tasks import remove_expired_outputs as task

    settings.ENGINE_OUTPUT_TTL = 3600
    fresh = EngineJob.objects.create(
        token=done.token,
        endpoint="flux/dev",
        status=Status.SUCCEEDED,
        output_file=default_storage.save("engine/1/fresh.png", ContentFile(PNG)),
        completed_at=timezone.now(),
    )
    EngineJob.objects.filter(pk=done.pk).update(
        completed_at=timezone.now() - datetime.timedelta(seconds=3601)
    )

    assert task() == 1
    assert not default_storage.exists(done.output_file)
    assert default_storage.exists(fresh.output_file)
    assert remove_expired_outputs() == 0  # safe to repeat
    assert "engine-remove-expired-outputs" in settings.CELERY_BEAT_SCHEDULE


def test_other_methods_are_not_allowed(client, done, owner_token):
    path = f"/engine/files/{done.output_file}"
    assert client.post(path, headers=bearer(owner_token[1])).status_code == 405
