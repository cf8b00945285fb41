"""The create form's "Save to": private or a team the user edits; the image lands there."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from gallery.models import Image
from gallery.services import store_job_result
from jobs.models import Job, Stage
from teams.membership import change_role
from teams.models import Role
from tests.conftest import client_for, html, wait_for
from tests.factories import JobFactory, tiny_png

CREATE = reverse("create:create-endpoint", args=["flux/dev"])
BODY = {"prompt": "a lighthouse at dawn", "canvas": "Square"}


def save_to_options(page: str) -> list[tuple[str, str]]:
    select = re.search(r'<select name="save_to"[^>]*>(.*?)</select>', page, re.S)
    assert select, "no Save to field"
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))


@pytest.mark.django_db
def test_choices_are_private_and_the_teams_one_edits(owner_client, member_client, team):
    for client in (owner_client, member_client):
        assert save_to_options(html(client.get(CREATE))) == [
            ("", "Private"),
            (str(team.pk), "Studio team"),
        ]


@pytest.mark.django_db
def test_viewers_and_outsiders_only_get_private(viewer_client, outsider_client, team):
    for client in (viewer_client, outsider_client):
        assert save_to_options(html(client.get(CREATE))) == [("", "Private")]


@pytest.mark.django_db
def test_every_form_has_it_utilities_too(owner_client, team):
    page = html(owner_client.get(reverse("create:create-endpoint", args=["utils/upscale"])))
    assert save_to_options(page)[1] == (str(team.pk), "Studio team")


@pytest.mark.django_db
def test_prefill_chooses_the_team(owner_client, team):
    page = html(owner_client.get(CREATE, {"save_to": team.pk}))
    assert re.search(rf'<option value="{team.pk}" selected>', page)


@pytest.mark.django_db
def test_submit_saves_the_team_on_the_jobs(member_client, member, team, no_submit):
    response = member_client.post(CREATE, {**BODY, "count": 2, "save_to": team.pk})
    assert response.status_code == 302
    assert [job.team for job in Job.objects.all()] == [team, team]


@pytest.mark.django_db
def test_private_is_the_default(member_client, team, no_submit):
    member_client.post(CREATE, BODY)
    assert Job.objects.get().team is None


@pytest.mark.django_db
def test_htmx_submit_with_a_team(member_client, team, no_submit):
    response = member_client.post(
        CREATE, {**BODY, "save_to": team.pk}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert Job.objects.get().team == team


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_forged_team_choice_is_a_form_error(request, team, who, no_submit):
    client = client_for(request.getfixturevalue(who))
    response = client.post(CREATE, {**BODY, "save_to": team.pk})
    assert response.status_code == 422
    assert "You can&#x27;t save to that team" in html(response)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_forged_htmx_team_choice_returns_the_form_with_the_error(viewer_client, team, no_submit):
    response = viewer_client.post(
        CREATE, {**BODY, "save_to": team.pk}, headers={"HX-Request": "true"}
    )
    assert response["HX-Retarget"] == "#endpoint-form"
    assert "You can&#x27;t save to that team" in html(response)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_the_stored_image_joins_the_team_and_members_see_its_author(member, owner, team):
    job = JobFactory(owner=member, team=team, status=Stage.SAVING)
    image = store_job_result(job, tiny_png(), "image/png")
    assert image.team == team and image.owner == member
    page = html(client_for(owner).get(reverse("gallery:list"), {"team": team.pk}))
    assert reverse("gallery:thumbnail", args=[image.pk]) in page
    assert "member" in page
    detail = html(client_for(owner).get(reverse("gallery:detail", args=[image.pk])))
    assert "<dt>Author</dt><dd>member</dd>" in detail


@pytest.mark.django_db
def test_an_author_demoted_before_the_result_keeps_it_private(member, owner, team):
    job = JobFactory(owner=member, team=team, status=Stage.SAVING)
    change_role(team, owner, member.pk, Role.VIEWER)
    image = store_job_result(job, tiny_png(), "image/png")
    assert image.team is None


@pytest.mark.django_db(transaction=True)
def test_end_to_end_into_the_team_gallery(member_client, member, owner, team, studio_on_engine):
    response = member_client.post(CREATE, {**BODY, "save_to": team.pk})
    assert response.status_code == 302
    job = Job.objects.get()

    def saved():
        return Image.objects.filter(job=job).first()

    image = wait_for(saved, 60, message="no image stored")
    assert image.team == team and image.owner == member
    owner_view = client_for(owner)
    assert owner_view.get(reverse("gallery:file", args=[image.pk])).status_code == 200
    assert reverse("gallery:thumbnail", args=[image.pk]) in html(
        owner_view.get(reverse("gallery:list"), {"team": team.pk})
    )
