"""`make run`: migrate, make sure Redis is up, then start the Procfile's processes together,
under supervisord (studio/supervision.py): one that dies is started again; Ctrl-C stops all.

With the project's own engine (``OPENJOURNEY_API_URL`` unset) that is web, engine, worker,
utilities and scheduler: the engine has a uvicorn of its own on ``ENGINE_PORT`` (default
PORT+1), serving only the engine's ASGI app (``engine.asgi``, the Procfile's ``engine``
line), so the worker's submits, polls and downloads do not share the studio web server's
GIL; and its utility jobs have a worker of their own, so a slow image link never delays a
generation. With
the hosted API (``OPENJOURNEY_API_URL`` set) the engine process is not started.

Run as ``python -m studio.launcher``. ``python -m studio.launcher check-redis`` only does
the Redis part and says what it found.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

import redis

from studio.secret_key import read_or_create_key_file
from studio.supervision import (
    STOP_WAIT_SECONDS,
    SUPERVISOR_NAME,
    LogPrinter,
    log_dir,
    procfile_programs,
    supervisord_command,
    supervisord_config,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
INSTALL_REDIS_HINT = (
    "Openjourney Studio needs Redis and none is reachable.\n"
    "Install it and run this again:\n"
    "  Debian/Ubuntu:  sudo apt-get install redis-server\n"
    "  Fedora:         sudo dnf install redis\n"
    "  macOS:          brew install redis\n"
    "or point REDIS_URL at a Redis server you already have (redis://host:6379/0)."
)


# Procfile process names, in the order they are started.
# "utilities": the engine's utility jobs, whose image links may be slow, on a worker of
# their own (Procfile); with the hosted API there is no engine to run them for.
PROCESSES_WITH_ENGINE = ("web", "engine", "worker", "utilities", "scheduler")
PROCESSES_HOSTED_API = ("web", "worker", "scheduler")


class RedisUnavailable(RuntimeError):
    """No Redis could be reached or started; the message says what to do."""


class LaunchError(RuntimeError):
    """A setting that keeps `make run` from starting (a bad or busy port); the message says
    what to change."""


@dataclass
class RedisService:
    """The Redis the studio will use, and the server process when we started it ourselves."""

    url: str
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def started_here(self) -> bool:
        return self.process is not None

    def stop(self) -> None:
        """Stop the server we started (a no-op for a Redis we merely found)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def redis_reachable(url: str, timeout: float = 1.0) -> bool:
    """Whether a Redis server answers PING at ``url``."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis_server(redis_server: str, data_dir: Path, timeout: float = 10.0) -> RedisService:
    """Start ``redis-server`` on a free loopback port, keeping its files under ``data_dir``."""
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log_path = redis_dir / "redis.log"
    command = [
        redis_server,
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(redis_dir),
        "--appendonly", "yes",
        "--save", "",
        "--logfile", str(log_path),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
            raise RedisUnavailable(
                f"{redis_server} exited with status {process.returncode}.\n{log}\n"
                + INSTALL_REDIS_HINT
            )
        if redis_reachable(url, timeout=0.2):
            return RedisService(url=url, process=process)
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RedisUnavailable(f"{redis_server} did not answer within {timeout:.0f} s.")


def ensure_redis(
    configured_url: str | None,
    data_dir: Path,
    *,
    default_url: str | None = None,
    redis_server: str | None = None,
) -> RedisService:
    """Find a Redis: the one configured, else the default address, else one we start.

    ``default_url`` defaults to ``DEFAULT_REDIS_URL``; ``redis_server`` is the path of the
    ``redis-server`` binary, by default looked up on ``PATH`` ("" means there is none).
    """
    default_url = default_url or DEFAULT_REDIS_URL
    if configured_url:
        if redis_reachable(configured_url):
            return RedisService(url=configured_url)
        raise RedisUnavailable(
            f"REDIS_URL is set to {configured_url}, but no Redis answers there.\n"
            "Start that server, or unset REDIS_URL to let the studio find or start one."
        )
    if redis_reachable(default_url):
        return RedisService(url=default_url)
    binary = redis_server if redis_server is not None else shutil.which("redis-server")
    if not binary:
        raise RedisUnavailable(INSTALL_REDIS_HINT)
    return start_redis_server(binary, data_dir)


def _port_setting(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = (environ.get(name) or "").strip() or str(default)
    try:
        port = int(raw)
    except ValueError:
        raise LaunchError(f"{name}={raw!r} is not a port number.") from None
    if not 1 <= port <= 65535:
        raise LaunchError(f"{name}={port} is not a port number (1-65535): set {name}.")
    return port


@dataclass(frozen=True)
class LaunchPlan:
    """What `make run` starts: the Procfile's processes and the settings they all share."""

    port: int
    api_url: str
    processes: tuple[str, ...]
    env: dict[str, str]
    # Set when the engine gets a process of its own here (the API is the local one).
    engine_port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ports(self) -> dict[str, int]:
        """The loopback ports the servers will listen on, by the setting that names them."""
        ports = {"PORT": self.port}
        if self.engine_port is not None:
            ports["ENGINE_PORT"] = self.engine_port
        return ports


def plan_launch(environ: Mapping[str, str]) -> LaunchPlan:
    """The processes to start and the settings to give them, from ``environ``.

    ``OPENJOURNEY_API_URL`` unset means the project's own engine: it gets a uvicorn of its
    own (``engine.asgi``) on ``ENGINE_PORT`` (default PORT+1) and every process is pointed
    at it. Set, it is
    used as it is and no engine process starts.
    """
    port = _port_setting(environ, "PORT", 8000)
    configured_api = (environ.get("OPENJOURNEY_API_URL") or "").strip()
    env = {"PORT": str(port)}
    if configured_api:
        env["OPENJOURNEY_API_URL"] = configured_api
        return LaunchPlan(port, configured_api, PROCESSES_HOSTED_API, env)
    engine_port = _port_setting(environ, "ENGINE_PORT", port + 1)
    if engine_port == port:
        raise LaunchError(
            f"ENGINE_PORT and PORT are both {port}: the engine needs a port of its own."
        )
    engine_url = f"http://127.0.0.1:{engine_port}/engine"
    env["ENGINE_PORT"] = str(engine_port)
    env["OPENJOURNEY_API_URL"] = engine_url
    if not (environ.get("PUBLIC_BASE_URL") or "").strip():
        # Signed media links name the studio's web server, which serves them. The engine
        # reads such links from storage without a request, so this is only their address
        # (unset, it would be taken from the API's, now the engine's port).
        env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    return LaunchPlan(port, engine_url, PROCESSES_WITH_ENGINE, env, engine_port=engine_port)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As uvicorn binds: a port left in TIME_WAIT by the last run is free, a listener not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def check_ports_free(plan: LaunchPlan) -> None:
    """LaunchError naming the setting to change when a server's port is already taken."""
    for name, port in plan.ports().items():
        if not port_is_free(port):
            raise LaunchError(
                f"Port {port} ({name}) is already in use on 127.0.0.1: another `make run`, "
                f"or another server? Stop it, or set {name} to a free port."
            )


def serving_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """What `make run` sets where the environment (and .env) leave it unset.

    Production behaviour (``DEBUG=0``: branded error pages, never a debug page with the
    settings and the code), since `make run` is how most people run the studio; developers
    ask for debug with ``DEBUG=1``. Its servers answer plain http on loopback, so no
    redirect to https and no cookies marked https-only, which the browser would not send
    back; set both to 1 behind a TLS proxy.
    """
    defaults = {"DEBUG": "0", "SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0"}
    return {
        name: value for name, value in defaults.items() if not (environ.get(name) or "").strip()
    }


def ensure_secret_key(environ: Mapping[str, str], data_dir: Path) -> Path | None:
    """The secret key's file unless ``SECRET_KEY`` is set: made on first start (random,
    mode 600) in the data folder, where every process's settings read it."""
    if (environ.get("SECRET_KEY") or "").strip():
        return None
    key_file = Path(environ.get("SECRET_KEY_FILE") or data_dir / "secret-key")
    if not key_file.exists():
        read_or_create_key_file(key_file)
        print(f"Secret key: generated and kept in {key_file} (mode 600)")
    return key_file


def supervisor_config(plan: LaunchPlan, data_dir: Path, procfile: Path | None = None) -> Path:
    """supervisord's configuration for the plan's processes of the Procfile, written
    into the data folder."""
    programs = procfile_programs(procfile or BASE_DIR / "Procfile", plan.processes)
    path = data_dir / "supervisord.conf"
    log_dir(data_dir).mkdir(parents=True, exist_ok=True)
    path.write_text(supervisord_config(programs, data_dir, BASE_DIR))
    return path


def supervisor_logs(plan: LaunchPlan, data_dir: Path) -> dict[str, Path]:
    """The log file of each process and supervisord's own, by the name printed before them."""
    logs = {name: log_dir(data_dir) / f"{name}.log" for name in plan.processes}
    return {**logs, SUPERVISOR_NAME: log_dir(data_dir) / "supervisord.log"}


def _wait_for_http(url: str, process: subprocess.Popen, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (our own loopback URL)
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    return False


def _banner(plan: LaunchPlan, has_admin: bool, signup_open: bool) -> str:
    base_url = plan.base_url
    lines = [
        "",
        "=" * 64,
        f"  Openjourney Studio is running at {base_url}/",
        "",
    ]
    if signup_open:
        lines.append(f"  Sign in at {base_url}/accounts/login/ or create an account at")
        lines.append(f"  {base_url}/accounts/signup/")
    else:
        lines.append(f"  Sign in at {base_url}/accounts/login/ (sign-up is closed)")
    lines.append("")
    if plan.engine_port is not None:
        lines.append(f"  The engine (the local Openjourney API) is at {plan.api_url}/")
    else:
        lines.append(f"  The Openjourney API is {plan.api_url}/ (OPENJOURNEY_API_URL)")
    if not has_admin:
        lines += [
            "",
            "  No admin account yet. To make one, in another terminal run:",
            "    .venv/bin/python manage.py createsuperuser",
        ]
    lines += ["", "  Press Ctrl-C to stop everything.", "=" * 64, ""]
    return "\n".join(lines)


def _wait_for_servers(plan: LaunchPlan, supervisor: subprocess.Popen) -> bool:
    """Whether the web server and, when started here, the engine both answer."""
    urls = [f"{plan.base_url}/accounts/login/"]
    if plan.engine_port is not None:
        urls.append(f"{plan.api_url}/v1/internal/ping")
    return all(_wait_for_http(url, supervisor) for url in urls)


def apply_dotenv(path: Path, environ: MutableMapping[str, str]) -> list[str]:
    """Fill ``environ`` from a ``.env`` file (KEY=value lines), for what it does not set.

    The shell's environment wins, and an empty value (as copied from .env.example) leaves
    a setting to its default. Returns the names it set.
    """
    from honcho.environ import parse

    if not path.is_file():
        return []
    applied = []
    for name, value in parse(path.read_text()).items():
        if value.strip() and not (environ.get(name) or "").strip():
            environ[name] = value
            applied.append(name)
    return applied


def run() -> int:
    """Migrate, ensure Redis, start the Procfile's processes and wait for Ctrl-C."""
    # Read here, once, for the launcher and every process alike (supervisord reads no
    # .env): what is planned below (the engine's address, the Redis found or started) wins.
    apply_dotenv(BASE_DIR / ".env", os.environ)
    data_dir = Path(os.environ.get("STUDIO_DATA_DIR") or BASE_DIR / "var").resolve()
    try:
        plan = plan_launch(os.environ)
        # Before anything starts: a busy port would otherwise fail a server a few seconds
        # in, tried again and again, with the reason somewhere in the interleaved logs.
        check_ports_free(plan)
    except LaunchError as exc:
        print(exc, file=sys.stderr)
        return 1
    os.environ.update(serving_defaults(os.environ))
    data_dir.mkdir(parents=True, exist_ok=True)
    ensure_secret_key(os.environ, data_dir)

    try:
        service = ensure_redis(os.environ.get("REDIS_URL"), data_dir)
    except RedisUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    where = "started under " + str(data_dir / "redis") if service.started_here else "found"
    print(f"Redis: {service.url} ({where})")

    # Every process sees the same settings; the engine's address is fixed here
    # (ENGINE_PORT, OPENJOURNEY_API_URL) rather than derived from PORT in each one.
    os.environ.update(
        {
            "STUDIO_DATA_DIR": str(data_dir),
            "REDIS_URL": service.url,
            **plan.env,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=1)
    if not settings.DEBUG:
        # Outside debug WhiteNoise serves the collected, hashed files (STATIC_ROOT).
        call_command("collectstatic", interactive=False, verbosity=0)
    from django.contrib.auth import get_user_model

    has_admin = get_user_model().objects.filter(is_superuser=True).exists()
    own_engine = plan.engine_port is not None or plan.api_url.startswith(plan.base_url)
    if not os.environ.get("OPENJOURNEY_API_TOKEN") and own_engine:
        # The local engine: the studio's own token, issued once and kept in the data folder.
        token_file = data_dir / "engine-token"
        call_command("ensure_studio_token", str(token_file))
        os.environ["OPENJOURNEY_API_TOKEN"] = token_file.read_text().strip()

    config = supervisor_config(plan, data_dir)
    output = LogPrinter(supervisor_logs(plan, data_dir))
    output.start()
    # SIGTERM (a `kill` of make run) stops everything as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    supervisor = subprocess.Popen(supervisord_command(config), cwd=BASE_DIR)
    try:
        if _wait_for_servers(plan, supervisor):
            print(_banner(plan, has_admin, settings.SIGNUP_OPEN), flush=True)
        return supervisor.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to the launcher and supervisord (its processes have
        # process groups of their own); supervisord stops each, SIGKILL after a while.
        try:
            supervisor.send_signal(signal.SIGINT)
            supervisor.wait(timeout=STOP_WAIT_SECONDS + 15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            supervisor.kill()
        return 0
    finally:
        output.stop()
        service.stop()


def check_redis() -> int:
    """Only the Redis step: report what was found or started, then stop it again."""
    data_dir = Path(os.environ.get("STUDIO_DATA_DIR") or BASE_DIR / "var").resolve()
    try:
        service = ensure_redis(os.environ.get("REDIS_URL"), data_dir)
    except RedisUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Redis reachable at {service.url}" + (" (started here)" if service.started_here else ""))
    service.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["check-redis"]:
        return check_redis()
    if args:
        print("usage: python -m studio.launcher [check-redis]", file=sys.stderr)
        return 2
    return run()


if __name__ == "__main__":
    sys.exit(main())
