"""Ping, licence and the served OpenAPI document."""

from __future__ import annotations

import pytest

from openjourney.catalog import ENDPOINTS

pytestmark = pytest.mark.django_db


def test_ping_reports_every_model(client):
    body = client.get("/engine/internal/ping").json()
    assert body["status"] == "ok"
    posts = {e.slug for e in ENDPOINTS if e.method == "POST"}
    assert set(body["models"]) == posts
    assert all(model["ready"] for model in body["models"].values())


def test_license_reports_owner_and_limits(client, engine_token, settings):
    settings.ENGINE_MAX_ACTIVE_JOBS = 11
    body = client.get(
        "/engine/v1/internal/license", headers={"Authorization": f"Bearer {engine_token}"}
    ).json()
    assert body["owner"] == "engine-user"
    assert body["limits"] == {"max_active_jobs": 11, "active_jobs": 0}
    assert body["license"] and body["version"]
    assert engine_token not in str(body)


def test_openapi_document_is_served(client):
    response = client.get("/engine/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert "/v1/flux/dev" in document["paths"]
    assert document["servers"][0]["url"] == "http://testserver/engine"
