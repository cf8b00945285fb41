"""Tokens: missing, wrong or revoked answer 401 JSON; the health check needs none."""

from __future__ import annotations

import pytest
from django.test import Client

from engine.models import ApiToken, hash_token

BODY = {"prompt": "a lighthouse", "canvas": "Square"}


def post(client: Client, path: str, body: dict, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(path, body, content_type="application/json", headers=headers)


@pytest.mark.django_db
@pytest.mark.parametrize("token", [None, "oje_not-a-real-token", "x" * 500])
def test_missing_or_wrong_token_is_401_json(client, token):
    response = post(client, "/engine/v1/flux/dev", BODY, token)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_other_schemes_are_refused(client, engine_token):
    response = client.post(
        "/engine/v1/flux/dev",
        BODY,
        content_type="application/json",
        headers={"Authorization": f"Token {engine_token}"},
    )
    assert response.status_code == 401


@pytest.mark.django_db
def test_revoked_token_is_refused(client, engine_token):
    ApiToken.objects.filter(key_hash=hash_token(engine_token)).update(revoked=True)
    assert post(client, "/engine/v1/flux/dev", BODY, engine_token).status_code == 401
    assert (
        client.get(
            "/engine/v1/job/abc", headers={"Authorization": f"Bearer {engine_token}"}
        ).status_code
        == 401
    )


@pytest.mark.django_db
def test_token_is_stored_hashed(engine_user):
    token, raw = ApiToken.issue(engine_user, "hash check")
    token.refresh_from_db()
    assert raw not in (token.key_hash, token.prefix)
    assert token.key_hash == hash_token(raw)
    assert raw.startswith(token.prefix)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/engine/v1/job/abc", "/engine/job/abc", "/engine/v1/internal/license"]
)
def test_gets_need_a_token(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.django_db
def test_ping_needs_no_token(client):
    response = client.get("/engine/v1/internal/ping")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_engine_is_not_behind_the_studio_login(client):
    # The studio's pages redirect to sign-in; the engine answers with its own 401.
    assert client.post("/engine/flux/dev", {}, content_type="application/json").status_code == 401
