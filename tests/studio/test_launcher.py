"""`make run`: its Redis step (use what is reachable, else start one, else say what to
install), the processes it starts (the engine in a server of its own) and their settings."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import redis

from studio import launcher


def unused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_reachable_default_is_used_as_it_is(redis_url, tmp_path):
    service = launcher.ensure_redis(None, tmp_path, default_url=redis_url)
    assert service.url == redis_url
    assert not service.started_here
    assert not (tmp_path / "redis").exists()


def test_reachable_configured_url_is_used(redis_url, tmp_path):
    service = launcher.ensure_redis(redis_url, tmp_path, default_url=unused_url())
    assert service.url == redis_url
    assert not service.started_here


def test_absent_redis_is_started_under_the_data_folder(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        from tests.conftest import require_service

        require_service("redis-server binary", False)
    service = launcher.ensure_redis(None, tmp_path, default_url=unused_url())
    try:
        assert service.started_here
        client = redis.Redis.from_url(service.url)
        assert client.ping()
        assert client.config_get("dir")["dir"] == str(tmp_path / "redis")
        client.close()
    finally:
        service.stop()
    assert service.process.poll() is not None
    assert not launcher.redis_reachable(service.url)


def test_absent_and_not_startable_says_what_to_install(tmp_path):
    with pytest.raises(launcher.RedisUnavailable) as error:
        launcher.ensure_redis(None, tmp_path, default_url=unused_url(), redis_server="")
    assert "sudo apt-get install redis-server" in str(error.value)
    assert "REDIS_URL" in str(error.value)


def test_unreachable_configured_url_is_an_error_not_a_fallback(tmp_path):
    url = unused_url()
    with pytest.raises(launcher.RedisUnavailable, match=f"REDIS_URL is set to {url}"):
        launcher.ensure_redis(url, tmp_path, redis_server=shutil.which("redis-server") or "")


def test_broken_redis_server_binary_is_reported(tmp_path):
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(launcher.RedisUnavailable, match="exited with status 3"):
        launcher.ensure_redis(None, tmp_path, default_url=unused_url(), redis_server=str(fake))


def test_check_redis_command_exits_non_zero_with_the_message(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(launcher, "DEFAULT_REDIS_URL", unused_url())
    monkeypatch.setenv("PATH", str(tmp_path))  # no redis-server to be found
    assert launcher.main(["check-redis"]) == 1
    assert "sudo apt-get install redis-server" in capsys.readouterr().err


def test_check_redis_command_reports_a_reachable_server(monkeypatch, redis_url, capsys):
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert launcher.main(["check-redis"]) == 0
    assert f"Redis reachable at {redis_url}" in capsys.readouterr().out


def test_unknown_arguments_show_usage(capsys):
    assert launcher.main(["frobnicate"]) == 2
    assert "usage:" in capsys.readouterr().err


# --- the processes `make run` starts, and the engine's own server ----------------------------


def listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_local_engine_gets_a_process_and_every_process_its_address():
    plan = launcher.plan_launch({"PORT": "8100"})
    assert plan.processes == ("web", "engine", "worker", "utilities", "scheduler")
    assert plan.engine_port == 8101
    assert plan.api_url == "http://127.0.0.1:8101/engine"
    assert plan.env == {
        "PORT": "8100",
        "ENGINE_PORT": "8101",
        "OPENJOURNEY_API_URL": "http://127.0.0.1:8101/engine",
        # Signed media links keep naming the studio's web server, not the engine's.
        "PUBLIC_BASE_URL": "http://127.0.0.1:8100",
    }
    assert plan.ports() == {"PORT": 8100, "ENGINE_PORT": 8101}


def test_ports_default_to_8000_and_8001():
    plan = launcher.plan_launch({})
    assert (plan.port, plan.engine_port) == (8000, 8001)
    assert plan.base_url == "http://127.0.0.1:8000"


def test_engine_port_can_be_set():
    plan = launcher.plan_launch({"PORT": "8100", "ENGINE_PORT": "9555"})
    assert plan.engine_port == 9555
    assert plan.env["OPENJOURNEY_API_URL"] == "http://127.0.0.1:9555/engine"


def test_a_public_base_url_of_ones_own_is_kept():
    plan = launcher.plan_launch({"PUBLIC_BASE_URL": "https://studio.example.com"})
    assert "PUBLIC_BASE_URL" not in plan.env


def test_hosted_api_starts_no_engine_process():
    plan = launcher.plan_launch(
        {"PORT": "8100", "ENGINE_PORT": "8200", "OPENJOURNEY_API_URL": "https://api.opj.app"}
    )
    assert plan.processes == ("web", "worker", "scheduler")
    assert plan.engine_port is None
    assert plan.api_url == "https://api.opj.app"
    assert plan.env == {"PORT": "8100", "OPENJOURNEY_API_URL": "https://api.opj.app"}
    assert plan.ports() == {"PORT": 8100}
    assert launcher.honcho_command(plan)[-3:] == ["web", "worker", "scheduler"]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORT": "8100", "ENGINE_PORT": "8100"}, "ENGINE_PORT and PORT are both 8100"),
        ({"ENGINE_PORT": "eighty"}, "ENGINE_PORT='eighty' is not a port number"),
        ({"PORT": "65535"}, "ENGINE_PORT=65536 is not a port number"),
        ({"PORT": "0"}, "PORT=0 is not a port number"),
    ],
)
def test_bad_ports_are_refused_with_the_setting_to_change(environ, message):
    with pytest.raises(launcher.LaunchError, match=re.escape(message)):
        launcher.plan_launch(environ)


def test_honcho_starts_the_plans_processes_from_the_procfile():
    from honcho.environ import parse_procfile

    plan = launcher.plan_launch({"PORT": "8100"})
    command = launcher.honcho_command(plan)
    assert command[-5:] == ["web", "engine", "worker", "utilities", "scheduler"]
    assert command[command.index("-p") + 1] == "8100"
    procfile = parse_procfile(Path(command[command.index("-f") + 1]).read_text())
    assert set(plan.processes) <= set(procfile.processes)
    # The engine listens where OPENJOURNEY_API_URL points, not on honcho's per-process PORT.
    assert "--port ${ENGINE_PORT" in procfile.processes["engine"]
    # The engine's own ASGI app: its URLs and middleware only, none of the studio's.
    assert "engine.asgi:application" in procfile.processes["engine"]


def test_dotenv_fills_what_the_environment_leaves_unset(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# copied from .env.example, then edited\n"
        "PORT=8200\n"
        "OPENJOURNEY_API_URL=\n"
        "SIGNUP_OPEN=0\n"
        "LOG_LEVEL='DEBUG'\n"
    )
    environ = {"SIGNUP_OPEN": "1", "LOG_LEVEL": ""}
    applied = launcher.apply_dotenv(dotenv, environ)
    # The shell's value wins; an empty line in .env stays unset (the default applies).
    assert environ == {"SIGNUP_OPEN": "1", "PORT": "8200", "LOG_LEVEL": "DEBUG"}
    assert sorted(applied) == ["LOG_LEVEL", "PORT"]
    assert launcher.apply_dotenv(tmp_path / "absent", environ) == []


def test_honcho_does_not_read_dotenv_over_the_plan(tmp_path):
    # honcho reads .env by default and its values win over the environment it is given:
    # there, an address of the API would undo the engine's that the plan gave every process.
    (tmp_path / ".env").write_text('OPENJOURNEY_API_URL=""\n')
    (tmp_path / "Procfile").write_text('show: echo "api=[$OPENJOURNEY_API_URL]"\n')
    plan = launcher.plan_launch({"PORT": "8100"})
    command = launcher.honcho_command(plan)
    command[command.index("-f") + 1] = str(tmp_path / "Procfile")
    command[-len(plan.processes) :] = ["show"]
    env = {**os.environ, **plan.env}
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert f"api=[{plan.api_url}]" in result.stdout, result.stdout + result.stderr


def test_a_taken_engine_port_is_named_before_anything_starts(monkeypatch, tmp_path, capsys):
    with listening_socket() as busy:
        taken = busy.getsockname()[1]
        assert not launcher.port_is_free(taken)
        monkeypatch.setenv("PORT", str(free_port()))
        monkeypatch.setenv("ENGINE_PORT", str(taken))
        monkeypatch.delenv("OPENJOURNEY_API_URL", raising=False)
        monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
        assert launcher.main([]) == 1
    error = capsys.readouterr().err
    assert f"Port {taken} (ENGINE_PORT) is already in use" in error
    assert "set ENGINE_PORT to a free port" in error
    # Refused before Redis, migrations or honcho: not even the data folder was made.
    assert not (tmp_path / "data").exists()


def test_a_taken_web_port_is_named_too():
    with listening_socket() as busy:
        taken = busy.getsockname()[1]
        plan = launcher.plan_launch({"PORT": str(taken), "ENGINE_PORT": str(free_port())})
        with pytest.raises(launcher.LaunchError, match=rf"Port {taken} \(PORT\) is already"):
            launcher.check_ports_free(plan)


def test_a_released_port_is_free_again():
    with listening_socket() as busy:
        port = busy.getsockname()[1]
    assert launcher.port_is_free(port)


# --- `make run` for real: four processes, the engine on its own port, Ctrl-C stops them ------


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux's /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def process_info(pid: int) -> tuple[list[str], dict[str, str]]:
    """A process's command line and environment, or empty ones once it has gone."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return [], {}
    pairs = (item.decode(errors="replace").partition("=") for item in environ if item)
    return [a.decode(errors="replace") for a in argv if a], {k: v for k, _, v in pairs}


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads Linux's /proc")
def test_make_run_starts_the_engine_apart_and_ctrl_c_stops_everything(redis_url, tmp_path):
    port, engine_port = free_port(), free_port()
    queue = f"launcher-{uuid.uuid4().hex[:8]}"
    drop = ("DJANGO_ALLOW_ASYNC_UNSAFE", "OPENJOURNEY_API_URL", "OPENJOURNEY_API_TOKEN",
            "OPENJOURNEY_API_TOKEN_FILE", "PUBLIC_BASE_URL")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        PORT=str(port),
        ENGINE_PORT=str(engine_port),
        STUDIO_DATA_DIR=str(tmp_path),
        DATABASE_URL="",  # SQLite in the data folder, whichever database the suite runs on
        REDIS_URL=redis_url,
        # A queue of its own: this worker takes no task of another studio on this Redis.
        CELERY_QUEUE=queue,
        FOLLOW_QUEUE=f"{queue}.follow",
        ENGINE_QUEUE=queue,
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp_path / "launcher.log"
    with log_path.open("w") as log:
        # A session of its own, so SIGINT can go to the whole group as a terminal's Ctrl-C does.
        launched = subprocess.Popen(
            [sys.executable, "-m", "studio.launcher"],
            cwd=launcher.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    started: set[int] = set()
    try:
        deadline = time.monotonic() + 180
        while "Press Ctrl-C to stop everything." not in log_path.read_text():
            assert launched.poll() is None, log_path.read_text()[-4000:]
            assert time.monotonic() < deadline, log_path.read_text()[-4000:]
            time.sleep(0.5)
        output = log_path.read_text()
        engine_url = f"http://127.0.0.1:{engine_port}/engine"
        assert f"Openjourney Studio is running at http://127.0.0.1:{port}/" in output
        assert f"The engine (the local Openjourney API) is at {engine_url}/" in output

        # The banner waits for both servers: each answers at once.
        assert httpx.get(f"http://127.0.0.1:{port}/accounts/login/").status_code == 200
        ping = httpx.get(f"{engine_url}/v1/internal/ping")
        assert ping.status_code == 200 and ping.json()["status"] == "ok"
        # The token the launcher issued is good on the engine's own server.
        token = (tmp_path / "engine-token").read_text().strip()
        license_info = httpx.get(
            f"{engine_url}/v1/internal/license", headers={"Authorization": f"Bearer {token}"}
        )
        assert license_info.status_code == 200
        # The engine's server serves the engine only.
        assert httpx.get(f"http://127.0.0.1:{engine_port}/accounts/login/").status_code == 404

        started = descendants(launched.pid)
        servers, celery = {}, []
        for pid in started:
            argv, environ = process_info(pid)
            if argv[1:3] == ["-m", "uvicorn"]:
                servers[argv[argv.index("--port") + 1]] = environ
            elif any(arg.endswith("celery") for arg in argv[:2]):
                celery.append(environ)
        assert set(servers) == {str(port), str(engine_port)}
        assert len(celery) >= 2  # the worker (with its pool) and the scheduler
        for environ in [*servers.values(), *celery]:
            assert environ["OPENJOURNEY_API_URL"] == engine_url
            assert environ["OPENJOURNEY_API_TOKEN"] == token
            assert environ["PUBLIC_BASE_URL"] == f"http://127.0.0.1:{port}"
    finally:
        if launched.poll() is None:
            os.killpg(launched.pid, signal.SIGINT)
        try:
            status = launched.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(launched.pid, signal.SIGKILL)
            status = launched.wait()
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in started if alive(pid)]
        for pid in left:  # not to leave them running, but the test fails below
            os.kill(pid, signal.SIGKILL)
    assert status == 0, log_path.read_text()[-4000:]
    assert not left, f"{len(left)} processes left after Ctrl-C"
    assert launcher.port_is_free(port) and launcher.port_is_free(engine_port)
