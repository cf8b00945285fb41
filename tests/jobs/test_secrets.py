"""API tokens never leave the server: not in pages, logs, error pages, or rows.

Jobs run the whole path (a real worker, the real engine over HTTP) with a known site token
and a known team token; then every page, every log record at DEBUG, every Job, engine and
team row is searched for them. Debug error pages are searched too: the views and helpers
that hold a token mark it sensitive, so Django's error report hides it.
"""

from __future__ import annotations

import logging

import pytest
from django.core import serializers
from django.test import Client
from django.urls import reverse

from engine.models import ApiToken, EngineJob
from gallery.models import Image
from jobs.models import Job, Stage
from teams.models import Activity, Team
from teams.tokens import set_team_token
from tests.conftest import wait_for


def rows_text(*models) -> str:
    """Every column of every row of these models, as text."""
    return "".join(serializers.serialize("json", m.objects.all()) for m in models)


@pytest.mark.django_db(transaction=True)
def test_tokens_appear_in_no_page_log_or_row(
    owner, owner_client, team, engine_user, engine_token, studio_on_engine, caplog
):
    caplog.set_level(logging.DEBUG)
    _, team_token = ApiToken.issue(engine_user, "the team's own")
    set_team_token(team, owner, team_token)
    create = reverse("create:create-endpoint", args=["flux/dev"])
    owner_client.post(create, {"prompt": "a fox", "canvas": "Square", "count": 2})
    owner_client.post(create, {"prompt": "a team fox", "canvas": "Square", "save_to": team.pk})
    # One that fails upstream, so error paths are logged and stored too.
    owner_client.post(
        reverse("create:create-endpoint", args=["utils/upscale"]),
        {"image_source": "link", "image_url": "https://studio.invalid/none.png"},
    )
    wait_for(
        lambda: Job.objects.count() >= 3 and all(j.is_terminal for j in Job.objects.all()),
        90,
        message="the jobs did not end",
    )
    assert Job.objects.filter(status=Stage.SUCCEEDED).count() == 3
    assert EngineJob.objects.filter(token__name="the team's own").exists()  # the team's ran
    secrets = [engine_token, team_token]

    job = Job.objects.filter(status=Stage.SUCCEEDED).first()
    image = Image.objects.first()
    pages = [
        reverse("studio:home"),
        reverse("create:index"),
        create,
        reverse("studio:health"),
        reverse("jobs:list"),
        reverse("jobs:detail", args=[job.pk]),
        reverse("jobs:card", args=[job.pk]),
        reverse("gallery:list"),
        reverse("gallery:detail", args=[image.pk]),
        reverse("teams:detail", args=[team.pk]),
        reverse("teams:settings", args=[team.pk]),
        reverse("usage:team", args=[team.pk]),
        reverse("teams:activity", args=[team.pk]),
    ]
    for url in pages:
        response = owner_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in secrets:
            assert secret not in body, url
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in rows_text(Job, EngineJob, ApiToken, Team, Activity, Image)
        assert secret[-12:] not in rows_text(Team)  # not even in part, beyond the last four


@pytest.fixture
def debug_client(settings, owner):
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    return client


@pytest.mark.django_db
def test_debug_error_page_hides_the_site_token(debug_client, settings, monkeypatch):
    settings.OPENJOURNEY_API_TOKEN = "site-token-0123456789abcdef"
    monkeypatch.setattr("jobs.upstream._clients", {})
    # A failure while the client is made: get_client's frame, holding the token, is shown.
    monkeypatch.setattr("jobs.upstream.OpenjourneyClient", int)
    response = debug_client.get(reverse("studio:health"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "get_client" in body  # the frame is on the page
    assert "site-token-0123456789abcdef" not in body


@pytest.mark.django_db
def test_debug_error_page_hides_a_posted_team_token(debug_client, team, monkeypatch):
    monkeypatch.setattr("teams.views.set_team_token", int)  # fails, no frame of its own
    response = debug_client.post(
        reverse("teams:token", args=[team.pk]), {"token": "team-token-0123456789abcdef"}
    )
    assert response.status_code == 500
    assert "TypeError" in response.content.decode()
    assert "team-token-0123456789abcdef" not in response.content.decode()


@pytest.mark.django_db
def test_debug_error_page_hides_a_new_accounts_password(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setattr("accounts.views.login", int)  # fails, no frame of its own
    response = Client(raise_request_exception=False).post(
        reverse("accounts:signup"),
        {
            "username": "newcomer",
            "password1": "a-long-secret-passphrase-42",
            "password2": "a-long-secret-passphrase-42",
        },
    )
    assert response.status_code == 500
    assert "a-long-secret-passphrase-42" not in response.content.decode()


@pytest.mark.django_db
def test_the_team_token_column_holds_no_plain_token(owner, team):
    set_team_token(team, owner, "plain-team-token-abcdef123456")
    stored = Team.objects.filter(pk=team.pk).values_list("api_token_encrypted", flat=True)[0]
    assert stored and "plain-team-token" not in stored and "abcdef123456" not in stored


@pytest.mark.django_db
def test_debug_error_page_hides_passwords_inside_service_urls(debug_client, settings, monkeypatch):
    settings.REDIS_URL = "redis://:redis-pass-0123456789@127.0.0.1:6379/0"
    settings.CACHES = {
        **settings.CACHES,
        "extra": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://user:cache-pass-0123456789@127.0.0.1:6379/1",
        },
    }
    monkeypatch.setattr("jobs.upstream.OpenjourneyClient", int)
    monkeypatch.setattr("jobs.upstream._clients", {})
    response = debug_client.get(reverse("studio:health"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "REDIS_URL" in body  # the settings are listed, the passwords in them are not
    assert "redis-pass-0123456789" not in body
    assert "cache-pass-0123456789" not in body
    assert "127.0.0.1:6379/0" in body
