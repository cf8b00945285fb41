"""Fixtures of the teams' tests."""

from __future__ import annotations

import pytest

from tests.teams.helpers import client_for


@pytest.fixture
def member_client(member):
    return client_for(member)


@pytest.fixture
def viewer_client(viewer):
    return client_for(viewer)


@pytest.fixture
def outsider_client(outsider):
    return client_for(outsider)


@pytest.fixture
def no_submit(monkeypatch):
    """Jobs are created but not sent: these tests are about the studio's side."""
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
