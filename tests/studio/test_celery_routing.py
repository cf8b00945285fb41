"""Each task reaches exactly one queue: the follower's own, the engine's, or the default."""

from __future__ import annotations

import pytest
from kombu import Queue


@pytest.fixture
def app(settings):
    from studio.celery import app

    saved = {k: app.conf[k] for k in ("task_queues", "task_routes", "task_default_queue")}
    app.conf.update(
        task_default_queue="studio-x",
        task_queues=[
            Queue(name, routing_key=name) for name in ("studio-x", "studio-x.follow", "engine-x")
        ],
        task_routes={
            "engine.tasks.*": {"queue": "engine-x"},
            "jobs.tasks.follow_jobs": {"queue": "studio-x.follow"},
        },
    )
    _refresh(app)
    yield app
    app.conf.update(saved)
    _refresh(app)


def _refresh(app) -> None:
    # Celery caches its queues and routes the first time a task is sent.
    app.amqp.__dict__.pop("queues", None)
    app.amqp.flush_routes()


def bound_queues(app, task_name: str) -> set[str]:
    route = app.amqp.Router().route({}, task_name)
    queue = route["queue"]
    return {
        q.name
        for q in app.amqp.queues.values()
        if q.exchange.name == queue.exchange.name and q.routing_key == queue.routing_key
    }


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("jobs.tasks.submit_job", "studio-x"),
        ("jobs.tasks.follow_jobs", "studio-x.follow"),
        ("engine.tasks.run_job", "engine-x"),
    ],
)
def test_each_task_is_bound_to_one_queue(app, task, queue):
    assert bound_queues(app, task) == {queue}


def test_settings_bind_each_queue_by_its_name(settings):
    for queue in settings.CELERY_TASK_QUEUES:
        assert queue.routing_key == queue.name
