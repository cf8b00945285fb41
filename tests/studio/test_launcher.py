"""`make run`: its Redis step (use what is reachable, else start one, else say what to
install), the processes it starts (the engine in a server of its own, all under
supervisord) and their settings: production behaviour and a secret key of its own."""

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
from configparser import RawConfigParser
from pathlib import Path

import httpx
import pytest
import redis

from studio import launcher
from tests.make_run import alive, descendants


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


@pytest.mark.process
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


@pytest.mark.process
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


def supervised_programs(config: Path) -> dict[str, dict[str, str]]:
    """The programs of a supervisord configuration, by name, with their options."""
    parser = RawConfigParser()
    parser.read(config)
    return {
        section.removeprefix("program:"): dict(parser.items(section))
        for section in parser.sections()
        if section.startswith("program:")
    }


def test_hosted_api_starts_no_engine_process(tmp_path):
    plan = launcher.plan_launch(
        {"PORT": "8100", "ENGINE_PORT": "8200", "OPENJOURNEY_API_URL": "https://api.opj.app"}
    )
    assert plan.processes == ("web", "worker", "scheduler")
    assert plan.engine_port is None
    assert plan.api_url == "https://api.opj.app"
    assert plan.env == {"PORT": "8100", "OPENJOURNEY_API_URL": "https://api.opj.app"}
    assert plan.ports() == {"PORT": 8100}
    config = launcher.supervisor_config(plan, tmp_path)
    assert list(supervised_programs(config)) == ["web", "worker", "scheduler"]


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


def test_supervisord_starts_the_plans_processes_from_the_procfile(tmp_path):
    import shlex

    from honcho.environ import parse_procfile

    plan = launcher.plan_launch({"PORT": "8100"})
    programs = supervised_programs(launcher.supervisor_config(plan, tmp_path))
    assert list(programs) == ["web", "engine", "worker", "utilities", "scheduler"]
    procfile = parse_procfile((launcher.BASE_DIR / "Procfile").read_text()).processes
    for name, options in programs.items():
        # supervisord writes a literal % as %%; the line runs in sh as honcho ran it.
        sh, dash_c, line = shlex.split(options["command"].replace("%%", "%"))
        assert (sh, dash_c) == ("/bin/sh", "-c")
        assert line.replace("exec ", "", 1) == procfile[name]
        # Started again whenever it exits, its output kept in the data folder.
        assert options["autorestart"] == "true"
        assert options["stdout_logfile"] == str(tmp_path / "logs" / f"{name}.log")
    # The engine listens where OPENJOURNEY_API_URL points, not on the web server's PORT.
    assert "--port ${ENGINE_PORT" in procfile["engine"]
    # The engine's own ASGI app: its URLs and middleware only, none of the studio's.
    assert "engine.asgi:application" in procfile["engine"]


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


@pytest.mark.process
def test_processes_do_not_read_dotenv_over_the_plan(tmp_path):
    # honcho read .env by default and its values won over the environment it was given:
    # there, an address of the API undid the engine's that the plan gave every process.
    # supervisord reads none; the processes get the launcher's environment as it is.
    (tmp_path / ".env").write_text('OPENJOURNEY_API_URL=""\n')
    (tmp_path / "Procfile").write_text('show: echo "api=[$OPENJOURNEY_API_URL]"; sleep 60\n')
    plan = launcher.plan_launch({"PORT": "8100"})
    plan = launcher.LaunchPlan(plan.port, plan.api_url, ("show",), plan.env, plan.engine_port)
    config = launcher.supervisor_config(plan, tmp_path, procfile=tmp_path / "Procfile")
    env = {**os.environ, **plan.env}
    supervisor = subprocess.Popen(
        launcher.supervisord_command(config), cwd=tmp_path, env=env, stdout=subprocess.DEVNULL
    )
    log = tmp_path / "logs" / "show.log"
    try:
        deadline = time.monotonic() + 30
        while not (log.exists() and "api=" in log.read_text()):
            assert supervisor.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        supervisor.terminate()
        supervisor.wait(timeout=30)
    assert f"api=[{plan.api_url}]" in log.read_text()


def test_make_run_defaults_to_production_behaviour_over_plain_http():
    assert launcher.serving_defaults({}) == {
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
    }
    # A developer's DEBUG=1 (or a TLS proxy's settings), from the shell or .env, wins.
    chosen = {"DEBUG": "1", "SECURE_COOKIES": "1", "SECURE_SSL_REDIRECT": ""}
    assert launcher.serving_defaults(chosen) == {"SECURE_SSL_REDIRECT": "0"}


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path, capsys):
    key_file = launcher.ensure_secret_key({}, tmp_path)
    assert key_file == tmp_path / "secret-key"
    key = key_file.read_text().strip()
    assert len(key) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "generated and kept in" in capsys.readouterr().out
    # Kept: the next start uses the same key (sessions and links stay valid).
    assert launcher.ensure_secret_key({}, tmp_path) == key_file
    assert key_file.read_text().strip() == key
    # A key of one's own (SECRET_KEY) is used as it is, no file made.
    assert launcher.ensure_secret_key({"SECRET_KEY": "given"}, tmp_path / "other") is None
    assert not (tmp_path / "other").exists()


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
    # Refused before Redis, migrations or any process: not even the data folder was made.
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


def process_info(pid: int) -> tuple[list[str], dict[str, str]]:
    """A process's command line and environment, or empty ones once it has gone."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return [], {}
    pairs = (item.decode(errors="replace").partition("=") for item in environ if item)
    return [a.decode(errors="replace") for a in argv if a], {k: v for k, _, v in pairs}


DEBUG_PAGE_MARKS = ("Traceback", "DEBUG = True", "Using the URLconf", "settings.py", "Django")


def assert_branded(response: httpx.Response, status: int, heading: str) -> None:
    """The site's own error page: its frame and a sentence, nothing technical."""
    assert response.status_code == status
    assert "Openjourney Studio" in response.text and heading in response.text
    assert f"Error {status}" in response.text
    for mark in DEBUG_PAGE_MARKS:
        assert mark not in response.text, mark


def assert_default_install_pages(base_url: str) -> None:
    """What a stranger sees of a default install: branded error pages, working static
    files (WhiteNoise, the collected and hashed ones) and cookies a plain-http browser
    sends back."""
    assert_branded(httpx.get(f"{base_url}/no-such-page/"), 404, "This page does not exist")
    # Another host name: Django refuses it (DisallowedHost); in debug that page lists the
    # settings.
    other_host = httpx.get(f"{base_url}/accounts/login/", headers={"Host": "evil.example"})
    assert_branded(other_host, 400, "could not read this request")
    for host in ("127.0.0.1", "localhost"):
        login = httpx.get(f"{base_url}/accounts/login/", headers={"Host": host})
        assert login.status_code == 200, host
    assert "Secure" not in login.headers["set-cookie"]
    stylesheet = re.search(r'href="(/static/css/studio\.[0-9a-f]+\.css)"', login.text)
    assert stylesheet, "the stylesheet's name is not the collected, hashed one"
    css = httpx.get(f"{base_url}{stylesheet.group(1)}")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


@pytest.mark.process
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads Linux's /proc")
def test_make_run_starts_the_engine_apart_and_ctrl_c_stops_everything(redis_url, tmp_path):
    port, engine_port = free_port(), free_port()
    queue = f"launcher-{uuid.uuid4().hex[:8]}"
    drop = ("DJANGO_ALLOW_ASYNC_UNSAFE", "OPENJOURNEY_API_URL", "OPENJOURNEY_API_TOKEN",
            "OPENJOURNEY_API_TOKEN_FILE", "PUBLIC_BASE_URL", "DEBUG", "SECRET_KEY",
            "SECRET_KEY_FILE", "SECURE_SSL_REDIRECT", "SECURE_COOKIES")  # fmt: skip
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
            # Production behaviour by default; the key is read from the data folder by
            # each process's settings, never handed around in the environment.
            assert environ["DEBUG"] == "0"
            assert "SECRET_KEY" not in environ
            assert environ["STUDIO_DATA_DIR"] == str(tmp_path)
        assert (tmp_path / "secret-key").stat().st_mode & 0o777 == 0o600
        assert_default_install_pages(f"http://127.0.0.1:{port}")
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
