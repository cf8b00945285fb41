"""The Celery application: configured from Django's settings (``CELERY_*``)."""

import os

import click
import redis
from celery import Celery, bootsteps
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _closed_broker_is_a_connection_error() -> None:
    """kombu 5.7's Redis transport, asked for a connection after the broker's went away
    (Redis restarted), fails with AttributeError ("'NoneType' object has no attribute
    'hostname'") instead of a connection error. Celery ignores connection errors while it
    closes a lost connection, not that one: the worker died ("Unrecoverable error") instead
    of reconnecting (tests/chaos, Redis restarted). Raised as what it is, it is ignored and
    the worker reconnects."""
    connparams = kombu_redis.Channel._connparams
    if getattr(connparams, "studio_patched", False):
        return

    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise redis.exceptions.ConnectionError("The connection to the broker is closed.")
        return connparams(self, asynchronous)

    _connparams.studio_patched = True
    kombu_redis.Channel._connparams = _connparams


_closed_broker_is_a_connection_error()


# --- Which queues a worker consumes: --engine-utilities only|skip ----------------------
# `make run` gives the engine's utility jobs (they fetch image links, which can take up to
# ENGINE_FETCH_TIMEOUT) a worker of their own, and its other worker skips their queue, so a
# slow link never holds a worker that generates. Without the option a worker consumes
# every queue of CELERY_TASK_QUEUES, the utilities' included.
app.user_options["worker"].add(
    click.Option(
        ["--engine-utilities"],
        type=click.Choice(["only", "skip"]),
        default=None,
        help="Consume only the engine's utility queue (ENGINE_UTILITY_QUEUE), or all but it.",
    )
)


class EngineUtilityQueue(bootsteps.Step):
    """Applies --engine-utilities to the worker's queues before it starts consuming."""

    def __init__(self, worker, engine_utilities: str | None = None, **options) -> None:
        super().__init__(worker, **options)
        if engine_utilities:
            select_utility_queue(worker.app, engine_utilities)


def select_utility_queue(celery_app: Celery, mode: str) -> None:
    """Consume only (``"only"``) or all but (``"skip"``) the engine's utility queue."""
    from django.conf import settings

    name = settings.ENGINE_UTILITY_QUEUE
    if mode == "only":
        celery_app.amqp.queues.select([name])
    elif name not in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.ENGINE_QUEUE):
        # (A utility queue that is also the default or the engine's is not skipped.)
        celery_app.amqp.queues.deselect([name])


app.steps["worker"].add(EngineUtilityQueue)
