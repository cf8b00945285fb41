"""Settings come from the environment and refuse unsafe production defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from studio import env
from tests.conftest import require_service

BASE_DIR = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "-production-secret-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "studio.example.com",
}


def run_python(code: str, extra_env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    unset = {"DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    clean.update(DJANGO_SETTINGS_MODULE="studio.settings", STUDIO_DATA_DIR=str(tmp_path))
    clean.update(extra_env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.process
def test_missing_secret_key_outside_debug_is_a_clear_startup_error(tmp_path):
    result = run_python("import django; django.setup()", {"DEBUG": "0"}, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


@pytest.mark.process
def test_debug_runs_without_a_secret_key(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    result = run_python(code, {"DEBUG": "1"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


PRINT_KEY = (
    "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
)


@pytest.mark.process
def test_without_a_key_each_data_folder_gets_its_own_kept_private(tmp_path):
    # No key is built into the code: the one a data folder gets is random, kept there
    # (mode 600) and the same for every process of that installation.
    first = run_python(PRINT_KEY, {"DEBUG": "1"}, tmp_path / "one")
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50
    key_file = tmp_path / "one" / "secret-key"
    assert key_file.read_text().strip() == key
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = run_python(PRINT_KEY, {"DEBUG": "1"}, tmp_path / "one")
    assert again.stdout.strip() == key
    other = run_python(PRINT_KEY, {"DEBUG": "1"}, tmp_path / "two")
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() not in ("", key)


@pytest.mark.process
def test_processes_starting_together_agree_on_one_key(tmp_path):
    unset = {"DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(DJANGO_SETTINGS_MODULE="studio.settings", STUDIO_DATA_DIR=str(tmp_path))
    env.update(DATABASE_URL="", DEBUG="1")
    started = [
        subprocess.Popen(
            [sys.executable, "-c", PRINT_KEY], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE
        )
        for _ in range(4)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in started}
    assert len(keys) == 1 and len(next(iter(keys))) >= 50
    assert sorted(p.name for p in tmp_path.iterdir() if "secret-key" in p.name) == ["secret-key"]


@pytest.mark.process
def test_outside_debug_the_key_make_run_kept_is_used(tmp_path):
    (tmp_path / "secret-key").write_text("kept-by-make-run-" + "k" * 50 + "\n")
    result = run_python(PRINT_KEY, {"DEBUG": "0"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "kept-by-make-run-" + "k" * 50
    # SECRET_KEY_FILE names another file; the variable itself wins over both.
    (tmp_path / "elsewhere").write_text("from-the-named-file\n")
    named = run_python(
        PRINT_KEY, {"DEBUG": "0", "SECRET_KEY_FILE": str(tmp_path / "elsewhere")}, tmp_path
    )
    assert named.stdout.strip() == "from-the-named-file"
    given = run_python(PRINT_KEY, {"DEBUG": "0", "SECRET_KEY": "given-" + "g" * 50}, tmp_path)
    assert given.stdout.strip() == "given-" + "g" * 50


@pytest.mark.process
def test_check_deploy_passes_with_production_settings(tmp_path):
    code = (
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    result = run_python(code, PRODUCTION_ENV, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.process
def test_production_settings_are_hardened(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS > 0, s.STORAGES['staticfiles']['BACKEND'].startswith('whitenoise'))"
    )
    result = run_python(code, PRODUCTION_ENV, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"] * 5


@pytest.mark.process
def test_database_url_selects_postgresql(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'])"
    )
    result = run_python(code, {"DATABASE_URL": "postgres://u@db.internal:5433/studio"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "studio",
        "db.internal",
        "5433",
    ]


@pytest.mark.process
def test_a_pool_keeps_postgresql_connections_between_requests(tmp_path):
    # As the web servers run (DATABASE_POOL=1): five "requests" in a row, each closing its
    # connection as Django does at a request's end, reuse the pool's few connections (its
    # one, and one more opened while the pool was filling itself at the first request).
    from scripts.run_tests import POSTGRES_URL, reachable

    require_service(f"PostgreSQL at {POSTGRES_URL}", reachable(POSTGRES_URL))
    code = (
        "import django; django.setup(); from django.db import connection as c; "
        "from django.db import close_old_connections as done; "
        "d = c.settings_dict; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS']); "
        "pids = []\n"
        "for _ in range(5):\n"
        "    cur = c.cursor(); cur.execute('SELECT pg_backend_pid()'); "
        "pids.append(cur.fetchone()[0]); cur.close(); c.close()\n"
        "print(len(set(pids)), c.pool.get_stats()['connections_num'])"
    )
    env = {"DATABASE_URL": POSTGRES_URL, "DATABASE_POOL": "1"}
    result = run_python(code, env, tmp_path)
    assert result.returncode == 0, result.stderr
    max_age, checks, backends, opened = result.stdout.split()
    assert (max_age, checks) == ("0", "True")
    assert int(backends) <= 2 and int(opened) <= 2


@pytest.mark.process
def test_without_the_pool_each_request_connects_anew(tmp_path):
    from scripts.run_tests import POSTGRES_URL, reachable

    require_service(f"PostgreSQL at {POSTGRES_URL}", reachable(POSTGRES_URL))
    code = (
        "import django; django.setup(); from django.db import connection as c; "
        "pids = []\n"
        "for _ in range(5):\n"
        "    cur = c.cursor(); cur.execute('SELECT pg_backend_pid()'); "
        "pids.append(cur.fetchone()[0]); cur.close(); c.close()\n"
        "print(len(set(pids)), c.settings_dict['OPTIONS'].get('pool'))"
    )
    result = run_python(code, {"DATABASE_URL": POSTGRES_URL, "DATABASE_POOL": "0"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["5", "None"]


@pytest.mark.process
def test_default_database_is_sqlite_under_the_data_folder(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['NAME']); print(s.MEDIA_ROOT)"
    )
    result = run_python(code, {"DATABASE_URL": ""}, tmp_path)
    assert result.returncode == 0, result.stderr
    database, media = result.stdout.split()
    assert database == str(tmp_path / "studio.sqlite3")
    assert media == str(tmp_path / "media")


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("On", True), ("0", False), ("false", False)]
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env.env_bool("SOME_FLAG", not expected) is expected


def test_env_bool_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG='maybe' is not a boolean"):
        env.env_bool("SOME_FLAG", False)


def test_env_int_and_list(monkeypatch):
    monkeypatch.setenv("SOME_INT", "12")
    monkeypatch.setenv("SOME_LIST", " a.example, ,b.example ")
    assert env.env_int("SOME_INT", 3) == 12
    assert env.env_list("SOME_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("SOME_INT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env.env_int("SOME_INT", 3)


def test_every_variable_read_is_listed_in_env_example():
    import re

    listed = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.M)
    )
    read = set()
    for source in BASE_DIR.glob("*/settings.py"):
        read |= set(re.findall(r'env_\w+\(\s*"([A-Z][A-Z0-9_]+)"', source.read_text()))
    assert read, "no variables found: the pattern is stale"
    assert read <= listed, f"missing from .env.example: {sorted(read - listed)}"


@pytest.mark.process
def test_api_token_can_come_from_a_file(tmp_path):
    token_file = tmp_path / "engine-token"
    token_file.write_text("oje_from-a-file\n")
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.OPENJOURNEY_API_TOKEN)"
    )
    env = {"OPENJOURNEY_API_TOKEN": "", "OPENJOURNEY_API_TOKEN_FILE": str(token_file)}
    result = run_python(code, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "oje_from-a-file"
    # The variable itself wins over the file.
    result = run_python(code, {**env, "OPENJOURNEY_API_TOKEN": "oje_direct"}, tmp_path)
    assert result.stdout.strip() == "oje_direct"
