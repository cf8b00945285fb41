"""/teams/<pk>/: members with roles, the gallery and usage links, the log; deleting a team."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from gallery.models import Image
from teams.activity import record
from teams.models import Activity, Membership, Team
from tests.conftest import html
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


def test_team_page_shows_members_roles_and_links(owner_client, team, member, viewer):
    ImageFactory(owner=member, team=team)
    response = owner_client.get(reverse("teams:detail", args=[team.pk]))
    assert response.status_code == 200
    members = [(m.user.username, m.role) for m in response.context["members"]]
    assert members == [("owner", "owner"), ("member", "editor"), ("viewer", "viewer")]
    page = html(response)
    assert f'href="/gallery/?team={team.pk}"' in page
    assert "Team gallery (1)" in page
    assert f'href="{reverse("usage:team", args=[team.pk])}"' in page
    assert f'href="{reverse("teams:settings", args=[team.pk])}"' in page
    assert 'name="role"' in page  # owners change roles here


def test_viewer_sees_roles_but_no_management(viewer_client, team, member, viewer):
    page = html(viewer_client.get(reverse("teams:detail", args=[team.pk])))
    assert "Editor" in page and "Viewer" in page
    assert reverse("teams:settings", args=[team.pk]) not in page
    assert reverse("teams:member-add", args=[team.pk]) not in page


def test_another_team_or_a_missing_one_is_404(outsider_client, team):
    assert outsider_client.get(reverse("teams:detail", args=[team.pk])).status_code == 404
    assert outsider_client.get(reverse("teams:detail", args=[team.pk + 99])).status_code == 404


def test_activity_is_newest_first_and_paginated(owner_client, owner, team):
    for n in range(30):
        record(team, owner, "test", f"did thing {n:02d}")
    page = html(owner_client.get(reverse("teams:detail", args=[team.pk])))
    assert page.index("did thing 29") < page.index("did thing 10")
    assert "did thing 04" not in page  # 25 a page
    assert f"{reverse('teams:activity', args=[team.pk])}?page=2" in page

    second = owner_client.get(reverse("teams:activity", args=[team.pk]), {"page": 2})
    assert "did thing 04" in html(second) and "did thing 29" not in html(second)
    fragment = owner_client.get(
        reverse("teams:activity", args=[team.pk]), {"page": 2}, headers={"HX-Request": "true"}
    )
    assert "<html" not in html(fragment) and 'id="activity-list"' in html(fragment)


def test_empty_activity(owner_client, team):
    assert "Nothing has happened in this team yet" in html(
        owner_client.get(reverse("teams:detail", args=[team.pk]))
    )


def test_forbidden_page_says_why(viewer_client, team):
    response = viewer_client.get(reverse("teams:settings", args=[team.pk]))
    assert response.status_code == 403
    assert "Only the team&#x27;s owners can do this." in html(response)


def test_delete_team_takes_its_images_and_files(
    owner_client, owner, team, member, django_capture_on_commit_callbacks
):
    team_images = [ImageFactory(owner=owner, team=team), ImageFactory(owner=member, team=team)]
    private = [ImageFactory(owner=owner), ImageFactory(owner=member)]
    names = [n for image in team_images for n in (image.file.name, image.thumbnail.name)]
    assert all(default_storage.exists(name) for name in names)

    confirm = owner_client.get(reverse("teams:delete", args=[team.pk]))
    assert "2 images are deleted with it" in html(confirm)
    with django_capture_on_commit_callbacks(execute=True):  # files go once committed
        response = owner_client.post(reverse("teams:delete", args=[team.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("teams:list")

    assert not Team.objects.filter(pk=team.pk).exists()
    assert not Membership.objects.filter(team_id=team.pk).exists()
    assert not Activity.objects.filter(team_id=team.pk).exists()
    assert not Image.objects.filter(pk__in=[i.pk for i in team_images]).exists()
    assert not any(default_storage.exists(name) for name in names)
    # Members keep their private images, files included.
    assert Image.objects.filter(pk__in=[i.pk for i in private]).count() == 2
    assert all(default_storage.exists(image.file.name) for image in private)


def test_only_owners_delete_the_team(member_client, team):
    assert member_client.post(reverse("teams:delete", args=[team.pk])).status_code == 403
    assert Team.objects.filter(pk=team.pk).exists()
