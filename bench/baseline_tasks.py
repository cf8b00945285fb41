"""The baseline follower of bench/follow.py: one task per job that sleeps between polls,
as a naive port of the official client (poll every 5 s until the job ends)."""

from __future__ import annotations

import time

from celery import shared_task


@shared_task(name="bench.follow_sleeping")
def follow_sleeping(upstream_id: str, counter_key: str, interval: float = 5.0) -> str:
    import redis
    from django.conf import settings

    from jobs.upstream import get_client

    client = get_client()
    while True:
        job = client.get_job(upstream_id)
        if job.is_terminal:
            # When the follower learnt of the end, to compare with when it happened.
            redis.Redis.from_url(settings.REDIS_URL).hset(counter_key, upstream_id, time.time())
            return job.status
        time.sleep(interval)
