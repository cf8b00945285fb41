"""The Celery application: configured from Django's settings (``CELERY_*``)."""

import os

import redis
from celery import Celery
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
