"""The engine's utility jobs have a queue of their own, and `make run` a worker for it."""

from __future__ import annotations

import pytest
from celery.app.routes import MapRoute

from engine.models import ApiToken, EngineJob, Status
from engine.runner import RunResult
from engine.tasks import run_job
from tests.factories import UserFactory


def test_utility_jobs_are_routed_to_their_own_queue(settings):
    route = MapRoute(settings.CELERY_TASK_ROUTES)
    assert route("engine.tasks.run_utility_job") == {"queue": settings.ENGINE_UTILITY_QUEUE}
    assert route("engine.tasks.run_job") == {"queue": settings.ENGINE_QUEUE}
    assert f"{settings.ENGINE_QUEUE}.utilities" == settings.ENGINE_UTILITY_QUEUE
    declared = {queue.name: queue.routing_key for queue in settings.CELERY_TASK_QUEUES}
    assert declared[settings.ENGINE_UTILITY_QUEUE] == settings.ENGINE_UTILITY_QUEUE


@pytest.fixture
def studio_app(settings):
    """The studio's Celery app with the settings' queues (a test worker may have put its
    own in place), as they are again afterwards."""
    from studio.celery import app

    # The settings' own default queue: tests/conftest.py renames it for each run (its event
    # channels), but CELERY_TASK_QUEUES keeps the name it was declared with, first.
    settings.CELERY_TASK_DEFAULT_QUEUE = settings.CELERY_TASK_QUEUES[0].name
    keys = ("task_queues", "task_routes", "task_default_queue")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(
        task_queues=settings.CELERY_TASK_QUEUES,
        task_routes=settings.CELERY_TASK_ROUTES,
        task_default_queue=settings.CELERY_TASK_DEFAULT_QUEUE,
    )
    app.amqp.__dict__.pop("queues", None)  # Celery keeps the queues it built first
    yield app
    app.conf.update(saved)
    app.amqp.__dict__.pop("queues", None)


@pytest.mark.parametrize(
    ("option", "consumes_utilities", "consumes_the_rest"),
    [(None, True, True), ("skip", False, True), ("only", True, False)],
)
def test_the_worker_option_picks_the_queues(
    studio_app, settings, option, consumes_utilities, consumes_the_rest
):
    worker = studio_app.WorkController(pool_cls="solo", engine_utilities=option)
    consumed = set(worker.app.amqp.queues.consume_from)
    assert (settings.ENGINE_UTILITY_QUEUE in consumed) is consumes_utilities
    assert (settings.CELERY_TASK_DEFAULT_QUEUE in consumed) is consumes_the_rest
    assert (settings.FOLLOW_QUEUE in consumed) is consumes_the_rest


def test_procfile_workers_split_the_queues_between_them():
    from honcho.environ import parse_procfile

    from studio.launcher import BASE_DIR, PROCESSES_WITH_ENGINE

    processes = parse_procfile((BASE_DIR / "Procfile").read_text()).processes
    assert processes["worker"].endswith("--engine-utilities skip")
    assert processes["utilities"].endswith("--engine-utilities only")
    assert {"worker", "utilities"} <= set(PROCESSES_WITH_ENGINE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("endpoint", "handed_over"), [("utils/upscale", True), ("flux/dev", False)]
)
def test_run_job_hands_a_utility_job_to_its_queue(monkeypatch, endpoint, handed_over):
    sent, ran = [], []
    monkeypatch.setattr("engine.tasks.run_utility_job.delay", sent.append)
    monkeypatch.setattr(
        "engine.runner.run", lambda job, user_id: ran.append(job.pk) or RunResult(text="ran")
    )
    token, _ = ApiToken.issue(UserFactory())
    job = EngineJob.objects.create(
        token=token, endpoint=endpoint, input={"image": "https://photos.example/a.png"}
    )

    run_job(job.pk)

    assert (sent, ran) == (([job.pk], []) if handed_over else ([], [job.pk]))
    if handed_over:
        assert EngineJob.objects.get(pk=job.pk).status == Status.STARTING  # untouched
