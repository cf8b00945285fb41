"""Result stored by the worker → image shown in an open page, through the real stack.

    .venv/bin/python bench/live_updates.py [--rounds 5] [--count 8] [--database-url URL]

Starts the web server (uvicorn) and a Celery worker on a fresh database, opens the create
page in headless Chromium, submits ``rounds`` × ``count`` jobs, and records, for every job,
the moment its image appeared in the page (a MutationObserver in the page) minus the
moment the worker stored the result (``Job.finished_at``). Two pages run in turn: the
studio as it is (server-sent events over Redis, HTMX polling every 5 s as a fallback) and
the baseline, the same page with the event stream blocked, so only the 5 s polling is
left (the official client's interval). The targets and the figures: docs/performance.md,
"Live updates".
"""

from __future__ import annotations

import argparse
import shutil
import sys
import uuid

from _setup import header, percentile, setup_django

OBSERVER = """
window.__shown = {};
new MutationObserver(() => {
  document.querySelectorAll('article.job-card').forEach((card) => {
    if (card.querySelector('img') && !(card.id in window.__shown)) {
      window.__shown[card.id] = Date.now();
    }
  });
}).observe(document.body, {subtree: true, childList: true});
"""


def run_mode(browser, stack_url: str, blocked_events: bool, rounds: int, count: int) -> list[float]:
    from jobs.models import Job

    context = browser.new_context(base_url=stack_url)
    page = context.new_page()
    page.set_default_timeout(60_000)
    if blocked_events:
        page.route("**/jobs/events/**", lambda route: route.abort())
    page.goto("/accounts/login/")
    page.fill("#id_username", "bench")
    page.fill("#id_password", "bench-password-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.goto("/create/flux/schnell")
    page.evaluate(OBSERVER)
    seen: set[str] = set()
    for _ in range(rounds):
        page.fill("#id_prompt", f"a lighthouse {uuid.uuid4().hex[:6]}")
        page.fill("#id_count", str(count))
        page.click("button:has-text('Generate')")
        expected = len(seen) + count
        # A function, not an expression: Playwright would eval() a string, which the CSP forbids.
        page.wait_for_function(
            f"() => Object.keys(window.__shown).length >= {expected}", timeout=60_000
        )
        seen = set(page.evaluate("Object.keys(window.__shown)"))
    shown = page.evaluate("window.__shown")
    context.close()
    latencies = []
    for card_id, shown_ms in shown.items():
        job = Job.objects.get(pk=int(card_id.removeprefix("job-")))
        latencies.append(shown_ms - job.finished_at.timestamp() * 1000)
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="an empty database to use")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    print(header("python bench/live_updates.py " + " ".join(sys.argv[1:])))
    chromium = shutil.which("chromium")
    if chromium is None:
        # Before anything starts: the stack's processes would outlive an early return.
        print("Chromium is needed: apt-get install chromium")
        return 1

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    workdir = setup_django(args.database_url, queue)
    from django.db import connection

    from tests.factories import UserFactory
    from tests.stack import issue_stack_token, start_stack

    UserFactory(username="bench", password="bench-password-123")
    issue_stack_token()
    stack = start_stack(dict(connection.settings_dict), args.redis_url, workdir, queue=queue)
    import os

    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    results = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                args=["--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-background-networking", "--disable-component-update",
                      "--disable-sync", "--no-first-run"],
            )  # fmt: skip
            for name, blocked in (
                ("SSE + fallback polling", False),
                ("baseline: polling 5 s", True),
            ):
                results[name] = run_mode(browser, stack.url, blocked, args.rounds, args.count)
            browser.close()
    finally:
        stack.stop()

    print(f"\n{'mode':<26} {'jobs':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        print(
            f"{name:<26} {len(values):>5} {percentile(values, 50):>8.0f} "
            f"{percentile(values, 95):>8.0f} {max(values):>8.0f}"
        )
    live = results["SSE + fallback polling"]
    ok = percentile(live, 50) <= 300 and percentile(live, 95) <= 1000
    print(f"\ntarget p50 ≤ 300 ms, p95 ≤ 1000 ms: {'PASS' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
