"""The live-update stream: a change of one of the user's jobs arrives as a named event."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async

from jobs.events import publish_job

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_job_change_arrives_as_an_event(async_client, owner, outsider, redis_url, settings):
    settings.REDIS_URL = redis_url
    await async_client.aforce_login(owner)
    response = await async_client.get("/jobs/events/")
    assert response["Content-Type"] == "text/event-stream"
    stream = response.streaming_content.__aiter__()
    assert b"retry:" in await anext(stream)  # subscribed from here on

    # Another user's job is not announced here; the owner's is.
    await sync_to_async(publish_job)(SimpleNamespace(pk=7, owner_id=outsider.pk, status="x"))
    await sync_to_async(publish_job)(SimpleNamespace(pk=42, owner_id=owner.pk, status="saving"))
    chunk = await asyncio.wait_for(anext(stream), 5)
    assert chunk == b"event: job-42\ndata: saving\n\n"
    await stream.aclose()


async def test_stream_needs_a_signed_in_user(async_client):
    response = await async_client.get("/jobs/events/")
    assert response.status_code == 302


async def test_another_studio_on_the_same_redis_is_not_heard(
    async_client, owner, redis_url, settings
):
    """Redis channels ignore the database number: each studio's are named after its queue."""
    settings.REDIS_URL = redis_url
    settings.CELERY_TASK_DEFAULT_QUEUE = "studio-a"
    await async_client.aforce_login(owner)
    response = await async_client.get("/jobs/events/")
    stream = response.streaming_content.__aiter__()
    assert b"retry:" in await anext(stream)

    settings.CELERY_TASK_DEFAULT_QUEUE = "studio-b"  # a second studio, its user of the same id
    await sync_to_async(publish_job)(SimpleNamespace(pk=7, owner_id=owner.pk, status="x"))
    settings.CELERY_TASK_DEFAULT_QUEUE = "studio-a"
    await sync_to_async(publish_job)(SimpleNamespace(pk=42, owner_id=owner.pk, status="saving"))
    chunk = await asyncio.wait_for(anext(stream), 5)
    assert chunk == b"event: job-42\ndata: saving\n\n"
    await stream.aclose()
