"""`make run`'s Redis step: use what is reachable, else start one, else say what to install."""

from __future__ import annotations

import shutil
import socket

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
