"""`make run` for real, on a fresh data folder: a process that dies is started again while
the others keep serving, the installation signs with a key of its own, and a stranger sees
the studio's own error pages, never a debug page.

One launched studio for the module (tests/make_run.py): its own SQLite database, the
machine's Redis (its names are the data folder's, tests/studio/test_two_studios.py).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.make_run import LaunchedStudio, alive, sign_up, submit, wait_for_jobs

pytestmark = [
    pytest.mark.process,
    pytest.mark.skipif(
        not Path("/proc/self/stat").exists(), reason="finds the processes in Linux's /proc"
    ),
]
# The development key `make run` used before: anyone could sign links with it.
FORMER_PUBLIC_KEY = "insecure-local-only-key-never-used-without-debug"


@pytest.fixture(scope="module")
def studio(redis_url, tmp_path_factory):
    launched = LaunchedStudio(tmp_path_factory.mktemp("make-run"), redis_url)
    launched.start()
    yield launched
    status, left = launched.stop()
    assert status == 0, launched.output()[-4000:]
    assert not left, f"{len(left)} processes left after Ctrl-C"


@pytest.fixture(scope="module")
def person(studio):
    client = sign_up(studio.url, "dana", "a long enough passphrase 123")
    yield client
    client.close()


@pytest.fixture(scope="module")
def stored_image(studio, person) -> tuple[int, str]:
    """(id, storage name) of an image a job of the person's made."""
    job = submit(person, "a lighthouse at dawn")
    assert wait_for_jobs(studio, [job]) == {job: "succeeded"}, studio.output()[-4000:]
    with studio.database() as db:
        return db.execute("SELECT id, file FROM gallery_image WHERE job_id = ?", [job]).fetchone()


def test_a_killed_worker_is_started_again_and_a_job_still_completes(studio, person):
    worker = studio.worker_pid()
    assert worker is not None, studio.processes()
    others = {
        pid for pid, argv in studio.processes().items() if "uvicorn" in argv or "beat" in argv
    }
    assert len(others) == 3  # web, engine, scheduler

    killed_at = time.monotonic()
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while (replacement := studio.worker_pid()) in (None, worker):
        assert time.monotonic() < deadline, studio.output()[-4000:]
        assert httpx.get(f"{studio.url}/accounts/login/").status_code == 200
        time.sleep(0.2)
    print(f"worker started again {time.monotonic() - killed_at:.1f} s after SIGKILL")

    # Web, engine and scheduler were never stopped: the same processes still serve.
    assert all(alive(pid) for pid in others)
    assert httpx.get(f"{studio.url}/accounts/login/").status_code == 200
    # The supervisor says what happened, where make run's output is read.
    studio.wait_for_output("exited: worker (terminated by SIGKILL; not expected)")
    assert "spawned: 'worker'" in studio.wait_for_output(f"with pid {replacement}")
    # And the new worker does the work.
    job = submit(person, "a harbour at night")
    assert wait_for_jobs(studio, [job]) == {job: "succeeded"}, studio.output()[-4000:]
    assert alive(replacement)


def test_media_links_are_signed_with_the_installations_own_key(studio, stored_image):
    from django.core import signing

    from openjourney.links import MEDIA_LINK_NAME, MEDIA_LINK_PATH, MEDIA_LINK_SALT, MEDIA_LINK_USER

    image_id, name = stored_image
    with studio.database() as db:
        (owner_id,) = db.execute(
            "SELECT owner_id FROM gallery_image WHERE id = ?", [image_id]
        ).fetchone()

    def link(key: str) -> str:
        payload = {MEDIA_LINK_NAME: name, MEDIA_LINK_USER: owner_id}
        value = signing.dumps(payload, key=key, salt=MEDIA_LINK_SALT, compress=True)
        return f"{studio.url}{MEDIA_LINK_PATH}{value}"

    # A link to another's image, forged with the key that was in the source, leads nowhere...
    assert httpx.get(link(FORMER_PUBLIC_KEY)).status_code == 404
    # ...while the installation's own key, generated into its data folder, is the one its
    # web server checks.
    key_file = studio.data_dir / "secret-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    own_key = key_file.read_text().strip()
    assert len(own_key) >= 50
    assert httpx.get(link(own_key)).status_code == 200


def test_an_error_in_a_page_shows_the_branded_500_page(studio, person, stored_image):
    from tests.studio.test_launcher import assert_branded

    image_id, _ = stored_image
    assert person.get(f"/gallery/{image_id}/").status_code == 200
    with studio.database() as db:  # a row the page cannot read (its recipe not an object)
        original = db.execute("SELECT params FROM gallery_image WHERE id = ?", [image_id])
        original = original.fetchone()[0]
        db.execute("UPDATE gallery_image SET params = '[1]' WHERE id = ?", [image_id])
    try:
        assert_branded(person.get(f"/gallery/{image_id}/"), 500, "Something went wrong")
    finally:
        with studio.database() as db:
            db.execute("UPDATE gallery_image SET params = ? WHERE id = ?", [original, image_id])
    # Logged for the administrator, with the traceback the page does not show.
    studio.wait_for_output("AttributeError")
