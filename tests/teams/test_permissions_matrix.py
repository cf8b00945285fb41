"""Role × action: what owners, editors, viewers and outsiders may do with a team.

Rules: anything tried by someone outside the team answers 404. A member whose role does not
allow a team action gets 403 (a page saying which role it needs). Gallery actions follow the
gallery's own rule (images a user may not edit are absent: 404). "Save to" a team one may
not edit is a form error (422). Each allowed action is checked to have happened, and each
refused one to have changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from gallery.models import Image, ShareLink
from jobs.models import Job
from teams.models import Activity, Membership, Role, Team
from tests.conftest import client_for
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

ROLES = ["owner", "editor", "viewer", "outsider"]


@dataclass
class World:
    team: Team
    image: Image  # a team image, by the owner
    viewer_id: int


def _get(url):
    return lambda client, w: client.get(url(w))


def _post(url, data=None):
    return lambda client, w: client.post(url(w), data or {})


def team_url(name, *extra):
    return lambda w: reverse(name, args=[w.team.pk, *[e(w) for e in extra]])


def image_url(name):
    return lambda w: reverse(name, args=[w.image.pk])


def viewer_id(w):
    return w.viewer_id


def changed_role(w) -> bool:
    return Membership.objects.get(team=w.team, user_id=w.viewer_id).role == Role.EDITOR


def removed(w) -> bool:
    return not Membership.objects.filter(team=w.team, user_id=w.viewer_id).exists()


def team_gone(w) -> bool:
    return not Team.objects.filter(pk=w.team.pk).exists()


ACTIONS = {
    # name: (request, {role: status}, effect seen when allowed, or None)
    "view team page": (_get(team_url("teams:detail")), (200, 200, 200, 404), None),
    "view team image": (_get(image_url("gallery:detail")), (200, 200, 200, 404), None),
    "view team image file": (_get(image_url("gallery:file")), (200, 200, 200, 404), None),
    "view team image thumbnail": (
        _get(image_url("gallery:thumbnail")),
        (200, 200, 200, 404),
        None,
    ),
    "generate into team": (
        lambda client, w: client.post(
            reverse("create:create-endpoint", args=["flux/dev"]),
            {"prompt": "a fox", "canvas": "Square", "save_to": w.team.pk},
        ),
        (302, 302, 422, 422),
        lambda w: Job.objects.filter(team=w.team).exists(),
    ),
    "delete team image": (
        lambda client, w: client.post(reverse("gallery:delete"), {"ids": [w.image.pk]}),
        (302, 302, 404, 404),
        lambda w: not Image.objects.filter(pk=w.image.pk).exists(),
    ),
    "share team image by public link": (
        _post(image_url("sharing:link-create"), {"days": 7}),
        (302, 302, 404, 404),
        lambda w: ShareLink.objects.filter(image=w.image).exists(),
    ),
    "invite by username": (
        _post(team_url("teams:member-add"), {"username": "newcomer", "role": "editor"}),
        (302, 403, 403, 404),
        lambda w: Membership.objects.filter(team=w.team, user__username="newcomer").exists(),
    ),
    "make invite link": (
        _post(team_url("teams:invite-create"), {"role": "viewer"}),
        (302, 403, 403, 404),
        lambda w: w.team.invites.exists(),
    ),
    "change role": (
        _post(team_url("teams:member-role", viewer_id), {"role": "editor"}),
        (302, 403, 403, 404),
        changed_role,
    ),
    "remove member": (
        _post(team_url("teams:member-remove", viewer_id)),
        (302, 403, 403, 404),
        removed,
    ),
    "view settings": (_get(team_url("teams:settings")), (200, 403, 403, 404), None),
    "set token": (
        _post(team_url("teams:token"), {"token": "a-team-token-1234"}),
        (302, 403, 403, 404),
        lambda w: bool(Team.objects.get(pk=w.team.pk).api_token_encrypted),
    ),
    "set quota": (
        _post(team_url("teams:quota"), {"daily_job_quota": "4"}),
        (302, 403, 403, 404),
        lambda w: Team.objects.get(pk=w.team.pk).daily_job_quota == 4,
    ),
    "delete team": (_post(team_url("teams:delete")), (302, 403, 403, 404), team_gone),
    "view usage": (_get(team_url("usage:team")), (200, 200, 200, 404), None),
    "view activity": (_get(team_url("teams:activity")), (200, 200, 200, 404), None),
}


@pytest.fixture
def world(team, owner, member, viewer, outsider, no_submit):
    from tests.factories import UserFactory

    UserFactory(username="newcomer")
    Activity.objects.create(team=team, actor=owner, verb="test", detail="something happened")
    return World(team=team, image=ImageFactory(owner=owner, team=team), viewer_id=viewer.pk)


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_matrix(request, world, role, action, django_capture_on_commit_callbacks):
    user = request.getfixturevalue({"editor": "member"}.get(role, role))
    perform, statuses, effect = ACTIONS[action]
    expected = dict(zip(ROLES, statuses, strict=True))[role]
    with django_capture_on_commit_callbacks(execute=True):
        response = perform(client_for(user), world)
    assert response.status_code == expected, f"{role} / {action}"
    if effect is not None:
        assert effect(world) == (expected < 400), f"{role} / {action}: effect"


def test_refusals_read_clearly(request, world):
    response = client_for(request.getfixturevalue("viewer")).post(
        reverse("teams:member-add", args=[world.team.pk]),
        {"username": "newcomer", "role": "editor"},
    )
    assert response.status_code == 403
    assert "Only the team&#x27;s owners can do this." in response.content.decode()
