"""Live updates: each change of a job is published on its owner's Redis channel."""

from __future__ import annotations

import json
import logging

import redis
from django.conf import settings

logger = logging.getLogger(__name__)
_pool: redis.ConnectionPool | None = None


def channel_for(user_id: int) -> str:
    """The user's channel, inside this installation's namespace (``STUDIO_INSTANCE``, then
    its queue's name): Redis channels are shared by every database number, so two studios
    on one Redis would otherwise tell each other's users about their jobs."""
    return (
        f"{settings.STUDIO_INSTANCE}:studio:{settings.CELERY_TASK_DEFAULT_QUEUE}"
        f":user:{user_id}:jobs"
    )


def _client() -> redis.Redis:
    global _pool
    if _pool is None:
        _pool = redis.ConnectionPool.from_url(settings.REDIS_URL, socket_timeout=2)
    return redis.Redis(connection_pool=_pool)


def publish_job(job) -> None:
    """Tell the owner's open pages that ``job`` changed. Best effort: pages also poll."""
    message = json.dumps({"job": job.pk, "status": job.status})
    try:
        _client().publish(channel_for(job.owner_id), message)
    except redis.RedisError:
        logger.warning("could not publish the update of job %s", job.pk)
