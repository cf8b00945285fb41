from __future__ import annotations

import io
import stat

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from engine.models import ApiToken

pytestmark = pytest.mark.django_db


def test_create_engine_token_prints_the_token_last_and_creates_the_user():
    out = io.StringIO()
    call_command("create_engine_token", "robot", stdout=out, stderr=io.StringIO())
    raw = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.for_bearer(raw)
    assert token is not None
    assert token.user.username == "robot"
    assert not token.user.has_usable_password()


def test_create_engine_token_for_an_existing_user_keeps_their_password(owner, password):
    out = io.StringIO()
    call_command("create_engine_token", "owner", "--name", "ci", stdout=out, stderr=io.StringIO())
    owner.refresh_from_db()
    assert owner.check_password(password)
    assert ApiToken.objects.for_bearer(out.getvalue().split()[-1]).name == "ci"


def test_ensure_studio_token_issues_once_and_keeps_it(tmp_path):
    path = tmp_path / "engine-token"
    call_command("ensure_studio_token", str(path), stdout=io.StringIO())
    raw = path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ApiToken.objects.for_bearer(raw).user.username == "studio"
    call_command("ensure_studio_token", str(path), stdout=io.StringIO())
    assert path.read_text().strip() == raw
    assert ApiToken.objects.count() == 1
    assert not get_user_model().objects.get(username="studio").has_usable_password()


def test_ensure_studio_token_replaces_a_revoked_one(tmp_path):
    path = tmp_path / "engine-token"
    call_command("ensure_studio_token", str(path), stdout=io.StringIO())
    ApiToken.objects.update(revoked=True)
    call_command("ensure_studio_token", str(path), stdout=io.StringIO())
    assert ApiToken.objects.for_bearer(path.read_text().strip()) is not None
