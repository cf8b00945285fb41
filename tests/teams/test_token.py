"""The team's own API token: encrypted at rest, never shown again, used for the team's jobs."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.urls import reverse

from engine.models import ApiToken, EngineJob
from gallery.models import Image
from jobs.models import Job, Stage
from jobs.upstream import get_client
from openjourney.client import Unauthorized
from teams.crypto import TokenUnreadable, decrypt_token
from teams.membership import create_invite
from teams.models import Activity, Team
from teams.tokens import set_team_token, team_api_token
from tests.conftest import html, wait_for, wait_for_job_end
from tests.factories import ImageFactory, JobFactory, UserFactory

RAW = "oj_team_SECRET_token_value_9f3k"


@pytest.mark.django_db
def test_owner_stores_a_token_encrypted_and_sees_only_its_last_four(owner_client, team):
    response = owner_client.post(reverse("teams:token", args=[team.pk]), {"token": f"  {RAW} "})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.api_token_last4 == "9f3k"
    assert RAW not in team.api_token_encrypted and "SECRET" not in team.api_token_encrypted
    assert decrypt_token(team.api_token_encrypted) == RAW == team_api_token(team)
    page = html(owner_client.get(reverse("teams:settings", args=[team.pk])))
    assert "…9f3k" in page and RAW not in page
    assert Activity.objects.get(team=team, verb="token_set").detail.endswith("(…9f3k)")


@pytest.mark.django_db
def test_the_stored_row_never_holds_the_token(owner, team):
    set_team_token(team, owner, RAW)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM teams_team WHERE id = %s", [team.pk])
        row = cursor.fetchone()
    assert not any(RAW in str(value) for value in row)


@pytest.mark.django_db
def test_token_never_appears_in_any_team_page(owner_client, owner, team, member, no_submit):
    set_team_token(team, owner, RAW)
    image = ImageFactory(owner=owner, team=team)
    JobFactory(owner=owner, team=team)
    create_invite(team, owner, "viewer")
    owner_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a fox", "canvas": "Square", "save_to": team.pk},
    )
    urls = [
        reverse("teams:list"),
        reverse("teams:detail", args=[team.pk]),
        reverse("teams:activity", args=[team.pk]),
        reverse("usage:team", args=[team.pk]),
        reverse("teams:settings", args=[team.pk]),
        reverse("teams:leave", args=[team.pk]),
        reverse("teams:delete", args=[team.pk]),
        reverse("sharing:image-sharing", args=[image.pk]),
        reverse("gallery:detail", args=[image.pk]),
        reverse("jobs:list"),
    ]
    for url in urls:
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert RAW not in html(response), url
        assert team.api_token_encrypted not in html(response), url
    # A failed submit of the form does not echo it either.
    bad = owner_client.post(reverse("teams:token", args=[team.pk]), {"token": RAW + " x"})
    assert bad.status_code == 422 and RAW not in html(bad)
    for job in Job.objects.all():
        assert RAW not in str(job.__dict__)


@pytest.mark.django_db
def test_replace_and_remove(owner_client, owner, team):
    set_team_token(team, owner, RAW)
    owner_client.post(reverse("teams:token", args=[team.pk]), {"token": "another-token-1234"})
    team.refresh_from_db()
    assert team_api_token(team) == "another-token-1234" and team.api_token_last4 == "1234"
    response = owner_client.post(reverse("teams:token-remove", args=[team.pk]))
    assert response.status_code == 302
    team.refresh_from_db()
    assert (
        team.api_token_encrypted == ""
        and team.api_token_last4 == ""
        and team_api_token(team) is None
    )
    verbs = list(Activity.objects.filter(team=team).values_list("verb", flat=True))
    assert verbs == ["token_removed", "token_set", "token_set"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [("short", "too short"), ("has a space in it", "no spaces"), ("", "This field is required")],
)
def test_bad_tokens_are_refused(owner_client, team, value, message):
    response = owner_client.post(reverse("teams:token", args=[team.pk]), {"token": value})
    assert response.status_code == 422 and message in html(response)
    team.refresh_from_db()
    assert team.api_token_encrypted == ""


@pytest.mark.django_db
def test_only_owners_set_the_token(member_client, viewer_client, outsider_client, team):
    url = reverse("teams:token", args=[team.pk])
    assert member_client.post(url, {"token": RAW}).status_code == 403
    assert viewer_client.post(url, {"token": RAW}).status_code == 403
    assert outsider_client.post(url, {"token": RAW}).status_code == 404
    assert outsider_client.post(reverse("teams:token-remove", args=[team.pk])).status_code == 404
    team.refresh_from_db()
    assert team.api_token_encrypted == ""


@pytest.mark.django_db
def test_a_new_secret_key_makes_tokens_unreadable(owner, team, settings):
    set_team_token(team, owner, RAW)
    settings.SECRET_KEY = "a-rotated-secret-key"
    with pytest.raises(TokenUnreadable, match="enter it again"):
        team_api_token(team)
    with pytest.raises(Unauthorized):
        get_client(team)


@pytest.mark.django_db
def test_team_token_key_overrides_the_secret_key(owner, team, settings):
    settings.TEAM_TOKEN_KEY = "a-dedicated-key"
    set_team_token(team, owner, RAW)
    settings.SECRET_KEY = "a-rotated-secret-key"
    assert team_api_token(team) == RAW


@pytest.mark.django_db
def test_get_client_uses_the_team_token(owner, team, settings):
    settings.OPENJOURNEY_API_TOKEN = "site-token-0000"
    plain = Team.objects.create(name="No token")
    assert get_client()._http.headers["Authorization"] == "Bearer site-token-0000"
    assert get_client(plain)._http.headers["Authorization"] == "Bearer site-token-0000"
    set_team_token(team, owner, RAW)
    assert get_client(team)._http.headers["Authorization"] == f"Bearer {RAW}"


@pytest.mark.django_db(transaction=True)
def test_team_jobs_run_on_the_team_token(
    owner_client, owner, team, member, studio_on_engine, engine_user, caplog
):
    """End to end: the upstream job belongs to the team token's engine user, not the site's."""
    caplog.set_level(logging.DEBUG)
    team_engine_user = UserFactory(username="team-engine-user")
    _, team_raw = ApiToken.issue(team_engine_user, "team")
    set_team_token(team, owner, team_raw)

    response = owner_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a lighthouse", "canvas": "Square", "save_to": team.pk},
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.team == team

    wait_for_job_end(job, 60)
    assert job.status == Stage.SUCCEEDED, job.error
    upstream = EngineJob.objects.select_related("token__user").get(pk=job.upstream_id)
    assert upstream.token.user == team_engine_user != engine_user
    image = Image.objects.get(job=job)
    assert image.team == team and image.owner == owner

    # A private job still runs on the site's token.
    owner_client.post(
        reverse("create:create-endpoint", args=["flux/dev"]),
        {"prompt": "a lighthouse", "canvas": "Square", "save_to": ""},
    )
    private = Job.objects.exclude(pk=job.pk).get()
    wait_for(lambda: Job.objects.get(pk=private.pk).upstream_id, 60)
    private.refresh_from_db()
    assert EngineJob.objects.get(pk=private.upstream_id).token.user == engine_user

    assert team_raw not in caplog.text
    assert team_raw not in str(Job.objects.filter(team=team).values().get())
