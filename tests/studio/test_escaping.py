"""Prompts and names with HTML or script are shown as text on every page and fragment."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO

import pytest
from django.urls import reverse

from gallery.models import Collection
from gallery.sharing import create_share_link, share_link_token
from teams.models import Activity
from tests.conftest import client_for
from tests.factories import ImageFactory, JobFactory

pytestmark = pytest.mark.django_db

ATTACK = "<script>alert(1)</script><img src=x onerror=alert(2)>"
RAW_MARKERS = ["<script>alert(1)", "<img src=x onerror"]


def assert_escaped(body: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in body, f"{where}: {marker!r} unescaped"
    assert "&lt;script&gt;alert(1)" in body, f"{where}: the text is not shown at all"


def test_hostile_prompts_and_names_are_escaped_everywhere(owner, team, client):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    team.name = ATTACK[:80]
    team.save()
    image = ImageFactory(owner=owner, team=team, prompt=ATTACK)
    other = ImageFactory(owner=owner, prompt="a calm sea")
    job = JobFactory(owner=owner, team=team, status="failed", error=ATTACK)
    job.input = {"prompt": ATTACK}
    job.save()
    collection = Collection.objects.create(owner=owner, name=ATTACK[:80])
    collection.images.add(image)
    Activity.objects.create(team=team, actor=owner, verb="test", detail=ATTACK)
    link = create_share_link(image, owner, 7)
    me = client_for(owner)
    hx = {"HX-Request": "true"}
    pages = {
        "gallery list": me.get(reverse("gallery:list")),
        "gallery search": me.get(reverse("gallery:list"), {"q": ATTACK}),
        "gallery results fragment": me.get(
            reverse("gallery:list"), headers={**hx, "HX-Target": "gallery-results"}
        ),
        "image page": me.get(reverse("gallery:detail", args=[image.pk])),
        "compare": me.get(reverse("gallery:compare"), {"a": image.pk, "b": other.pk}),
        "delete confirmation": me.get(reverse("gallery:delete"), {"ids": image.pk}),
        "collections": me.get(reverse("gallery:collections")),
        "collection": me.get(reverse("gallery:collection", args=[collection.pk])),
        "jobs": me.get(reverse("jobs:list")),
        "job": me.get(reverse("jobs:detail", args=[job.pk])),
        "job card": me.get(reverse("jobs:card", args=[job.pk]), headers=hx),
        "teams": me.get(reverse("teams:list")),
        "team": me.get(reverse("teams:detail", args=[team.pk])),
        "team activity": me.get(reverse("teams:activity", args=[team.pk])),
        "team usage": me.get(reverse("usage:team", args=[team.pk])),
        "sharing panel": me.get(reverse("sharing:image-sharing", args=[image.pk]), headers=hx),
        "public page": client.get(reverse("sharing:public-image", args=[share_link_token(link)])),
        "admin teams": me.get(reverse("admin:teams_team_changelist")),
        "admin team": me.get(reverse("admin:teams_team_change", args=[team.pk])),
    }
    for where, response in pages.items():
        assert response.status_code in (200, 286), where  # 286: htmx, stop polling
        assert_escaped(response.content.decode(), where)
    # A prompt typed into the create form comes back escaped with its errors.
    form = me.post(reverse("create:create-endpoint", args=["flux/dev"]), {"prompt": ATTACK})
    assert form.status_code == 422
    assert_escaped(form.content.decode(), "create form")


def test_zip_recipes_keep_the_prompt_as_data(owner):
    image = ImageFactory(owner=owner, prompt=ATTACK)
    response = client_for(owner).get(reverse("gallery:zip"), {"ids": image.pk})
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(BytesIO(b"".join(response.streaming_content)))
    recipes = json.loads(archive.read("recipes.json"))
    assert ATTACK in json.dumps(recipes, ensure_ascii=False)
