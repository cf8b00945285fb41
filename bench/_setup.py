"""Shared set-up of the benchmarks: a fresh database, Django, and the real stack."""

from __future__ import annotations

import datetime
import os
import platform
import re
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import httpx

BASE_DIR = Path(__file__).resolve().parents[1]
# `python bench/x.py` puts bench/ first on the path, where bench/engine.py would shadow the
# engine package: the project's root comes first instead.
_BENCH_DIR = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _BENCH_DIR]
sys.path.insert(0, str(BASE_DIR))


def header(command: str) -> str:
    return (
        f"# {command}\n"
        f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def setup_django(database_url: str | None, queue: str, *, engine_worker: bool = False) -> Path:
    """Point Django at a fresh data folder (and database) and migrate it."""
    workdir = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    os.environ["STUDIO_DATA_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["CELERY_QUEUE"] = queue
    os.environ["FOLLOW_QUEUE"] = f"{queue}.follow"
    os.environ["ENGINE_QUEUE"] = f"{queue}.engine" if engine_worker else queue
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    return workdir


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


# --- HTTP through the real server, as a browser would ---------------------------------------

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def sign_in(base_url: str, username: str, password: str, **client_options) -> httpx.Client:
    """An HTTP client signed in through the login form (session and CSRF cookies)."""
    client = httpx.Client(base_url=base_url, timeout=60, **client_options)
    page = client.get("/accounts/login/")
    token = _CSRF_INPUT.search(page.text).group(1)
    answer = client.post(
        "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
    )
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in as {username} failed: HTTP {answer.status_code}")
    return client


class _FormFields(HTMLParser):
    """The values a browser would send for the first POST form of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if self._done:
            return
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value") or "on"
            elif kind not in ("file", "submit", "button"):
                self.fields[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select, self._select_first = name, None
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if self._select_first is None:
                self._select_first = value
            if "selected" in attrs:
                self.fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            self.fields.setdefault(self._select, self._select_first or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str) -> dict[str, str]:
    """The first POST form's fields with their defaults, as the browser would submit them."""
    parser = _FormFields()
    parser.feed(html)
    return parser.fields


def htmx_headers(client: httpx.Client, current_url: str, target: str) -> dict[str, str]:
    """The headers htmx 2 sends with a request (CSRF from the cookie, as `<body>` sets it)."""
    return {
        "HX-Request": "true",
        "HX-Current-URL": f"{client.base_url}{current_url}",
        "HX-Target": target,
        "X-CSRFToken": client.cookies.get("csrftoken", ""),
    }


# --- one process's memory and CPU, from /proc (Linux) ---------------------------------------

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a prefork worker's children), from /proc."""
    found = [pid]
    for child in found:
        for task in Path(f"/proc/{child}/task").glob("*"):
            try:
                found += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def tree_usage(pid: int) -> tuple[float, float]:
    """CPU seconds and resident MB of ``pid`` with its descendants (shared pages counted in
    each process, as the kernel reports them)."""
    cpu = rss = 0.0
    for member in process_tree(pid):
        try:
            cpu += cpu_seconds(member)
            rss += rss_mb(member)
        except OSError:
            continue
    return cpu, rss
