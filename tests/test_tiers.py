"""The tiers: the `process` mark is given and checked (tests/tiers.py), and `make test`'s
runner (scripts/run_tests.py) runs each tier where it should and fails on any failed run."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_spec = importlib.util.spec_from_file_location("run_tests", ROOT / "scripts" / "run_tests.py")
run_tests = importlib.util.module_from_spec(_spec)
sys.modules["run_tests"] = run_tests  # its dataclasses look their module up there
_spec.loader.exec_module(run_tests)

PG = "postgres://postgres@db.internal:5432/test"


def fake_result(run, status: int, closing: str):
    return run_tests.Result(run, status, 1.0, f"....\n{closing}\n")


@pytest.mark.process
def test_a_test_that_starts_a_process_unmarked_fails_and_a_marked_one_passes(tmp_path):
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import subprocess
            import pytest

            @pytest.fixture
            def redis_server():  # one of PROCESS_FIXTURES: the test is marked for it
                subprocess.run(["true"], check=True)
            """
        )
    )
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            import os, subprocess
            import pytest

            def test_unmarked_starts_a_process():
                subprocess.run(["true"], check=True)

            def test_unmarked_uses_os_system():
                os.system("true")

            @pytest.mark.process
            def test_marked_starts_a_process():
                subprocess.run(["true"], check=True)

            def test_through_a_process_fixture(redis_server):
                pass

            def test_starts_nothing():
                pass
            """
        )
    )
    # Only tests/tiers.py as a plugin: no Django, none of the installed plugins.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "-m", "pytest", "-p", "tests.tiers", "-p", "no:cacheprovider"]
    command += ["-q", "-o", "markers=process: starts processes", "--strict-markers"]

    everything = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "2 failed, 3 passed" in everything.stdout, everything.stdout + everything.stderr
    assert "test_unmarked_starts_a_process started a process without the `process` mark" in (
        everything.stdout
    )
    assert "subprocess.Popen ['true']" in everything.stdout
    assert "os.system" in everything.stdout

    fast = subprocess.run(
        [*command, "-m", "not process"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert "2 failed, 1 passed, 2 deselected" in fast.stdout, fast.stdout + fast.stderr


def test_without_postgresql_both_tiers_run_on_sqlite():
    runs = run_tests.plan(None, ["-x"])
    assert [(r.marks, r.database_url) for r in runs] == [("process", ""), ("not process", "")]
    assert all(r.command()[-1] == "-x" and "--durations=20" in r.command() for r in runs)


def test_with_postgresql_the_fast_tier_runs_on_both_and_the_process_tier_once_on_it():
    runs = run_tests.plan(PG)
    assert [(r.marks, r.database_url) for r in runs] == [
        ("process", PG),
        ("not process", ""),
        ("not process", PG),
    ]
    # Side by side on one server, each run in a test database of its own.
    on_postgres = [r.env()["TEST_DATABASE_SUFFIX"] for r in runs if r.database_url]
    assert len(set(on_postgres)) == len(on_postgres)


@pytest.mark.parametrize(("status", "expected"), [(0, 0), (1, 1), (5, 1)])
def test_any_failed_run_fails_make_test_exit_5_too(status, expected, capsys):
    runs = run_tests.plan(PG)

    def execute(run):
        if run is runs[1]:
            return fake_result(run, status, "3 passed, 1 skipped, 2 deselected in 1.00s")
        return fake_result(run, 0, "10 passed, 1 deselected in 2.00s")

    assert run_tests.run_all(runs, execute) == expected
    out = capsys.readouterr().out
    assert out.rstrip().endswith("total: 23 passed, 0 failed, 1 skipped")
    assert ("FAILED (exit 5)" in out) == (status == 5)


@pytest.mark.parametrize(("statuses", "expected"), [((5, 0, 0), 0), ((5, 0, 1), 1), ((5, 5, 5), 1)])
def test_a_selection_may_leave_a_tier_empty_but_not_every_run(statuses, expected, capsys):
    runs = run_tests.plan(PG, ["-k", "signup"])
    by_run = dict(zip(runs, statuses, strict=True))
    closing = {0: "2 passed in 1.00s", 1: "1 failed in 1.00s", 5: "no tests ran in 0.1s"}
    assert (
        run_tests.run_all(runs, lambda run: fake_result(run, by_run[run], closing[by_run[run]]))
        == expected
    )
    empty_beside_a_run = 5 in statuses and 0 in statuses
    assert ("none of the selected tests" in capsys.readouterr().out) == empty_beside_a_run


def test_counts_read_pytests_closing_line_errors_as_failures():
    output = "FAILED tests/a.py::test_x - 1 passed\n3 passed, 1 failed, 2 errors in 4.20s\n"
    assert run_tests.counts(output) == {"passed": 3, "failed": 3, "skipped": 0}
    assert run_tests.counts("no tests ran in 0.01s\n") == {"passed": 0, "failed": 0, "skipped": 0}


def test_nothing_run_is_a_failure():
    assert run_tests.run_all([], lambda run: None) == 1


def test_unreachable_postgresql_fails_under_strict_services(monkeypatch, capsys):
    monkeypatch.setattr(run_tests, "reachable", lambda url: False)
    monkeypatch.setattr(run_tests, "run_all", lambda runs: pytest.fail("nothing may run"))
    monkeypatch.setenv("STRICT_SERVICES", "1")
    assert run_tests.main([]) == 1
    assert "failing (STRICT_SERVICES=1)" in capsys.readouterr().out


def test_dry_run_prints_the_runs_and_starts_none(monkeypatch, capsys):
    monkeypatch.setattr(run_tests, "reachable", lambda url: True)
    monkeypatch.setattr(run_tests, "run_all", lambda runs: pytest.fail("nothing may run"))
    assert run_tests.main(["--dry-run", "-k", "gallery"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert "TEST_DATABASE_SUFFIX=fast" in lines[2]
    assert all("-m" in line and line.endswith("-k gallery") for line in lines)
