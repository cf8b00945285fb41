"""In a real browser: Redis restarts under an open page, its live-update stream comes back
by itself, and the next job's result reaches the page through it.

The stack here runs on a redis-server of this module's own (never the machine's shared
one, which is restarted here).
"""

from __future__ import annotations

import pytest

from jobs.models import Job, Stage
from tests.stack import start_stack

pytestmark = pytest.mark.django_db(transaction=True)

# Counts what the page's stream does, from the moment it is installed.
WATCH_STREAM = """() => {
  window.__opens = 0;
  window.__events = [];
  document.body.addEventListener("htmx:sseOpen", () => { window.__opens += 1; });
  document.body.addEventListener("htmx:sseMessage", (e) => {
    window.__events.push(e.detail.type);
  });
}"""
STREAM_OPEN = """() => {
  const data = document.querySelector("section.results")["htmx-internal-data"];
  return !!(data && data.sseEventSource && data.sseEventSource.readyState === EventSource.OPEN);
}"""


@pytest.fixture(scope="module")
def _stack(django_db_setup, django_db_blocker, redis_server, tmp_path_factory):
    """This module's stack (replacing the session's): web and worker on its own Redis."""
    from django.db import connection

    with django_db_blocker.unblock():
        settings_dict = dict(connection.settings_dict)
    stack = start_stack(settings_dict, redis_server.url, tmp_path_factory.mktemp("stack"))
    yield stack
    stack.stop()


def test_the_stream_reconnects_after_redis_restarts_and_delivers(signed_in_page, redis_server):
    page = signed_in_page
    page.goto("/create/flux/schnell")
    page.wait_for_function(STREAM_OPEN)
    page.evaluate(WATCH_STREAM)
    page.evaluate("window.__noReload = true")  # gone if the page reloads

    redis_server.restart(down_for=2.0)
    # The open stream ended with Redis; the page opens a new one by itself.
    page.wait_for_function("() => window.__opens >= 1", timeout=30_000)
    page.wait_for_function(STREAM_OPEN)

    page.fill("#id_prompt", "a lighthouse after the storm")
    page.click("button:has-text('Generate')")
    page.wait_for_selector("#results .job-card img", timeout=30_000)
    job = Job.objects.get()
    assert job.status == Stage.SUCCEEDED
    # The result came through the new stream (not only the cards' 5 s polling).
    page.wait_for_function(f"() => window.__events.includes('job-{job.pk}')")
    assert page.evaluate("window.__noReload") is True
