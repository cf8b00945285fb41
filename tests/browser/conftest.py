"""Browser tests: Playwright driving Debian's Chromium against the real stack."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import require_service
from tests.stack import STACK_TOKEN, start_stack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> None:
    """Real password hashes here: the stack signs users in with its own, default hashers."""


@pytest.fixture(scope="session")
def _stack(django_db_setup, django_db_blocker, redis_url, tmp_path_factory):
    from django.db import connection

    with django_db_blocker.unblock():
        settings_dict = dict(connection.settings_dict)
    stack = start_stack(settings_dict, redis_url, tmp_path_factory.mktemp("stack"))
    yield stack
    stack.stop()


@pytest.fixture
def stack(_stack, transactional_db, settings):
    """The running stack; this test's files and the stack's token live where it looks."""
    from engine.models import ApiToken, hash_token
    from tests.factories import UserFactory

    settings.MEDIA_ROOT = _stack.media_root
    studio_user = UserFactory(username="studio")
    ApiToken.objects.create(
        user=studio_user, name="stack", key_hash=hash_token(STACK_TOKEN), prefix=STACK_TOKEN[:8]
    )
    yield _stack
    if any(p.poll() is not None for p in _stack.processes):
        pytest.fail("a stack process died:\n" + _stack.log_tail())


# Per module, not per session: Playwright's sync API keeps an event loop running in the
# main thread while it is open, and async tests elsewhere cannot start theirs meanwhile.
@pytest.fixture(scope="module")
def _browser():
    require_service("Chromium (apt-get install chromium)", CHROMIUM is not None)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; the ORM calls around it are ordinary.
    # Only while browser tests run: no other process or test may inherit it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(_browser, stack):
    context = _browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.fixture
def signed_in_page(page, owner, password):
    page.goto("/accounts/login/")
    page.fill("#id_username", owner.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return page
