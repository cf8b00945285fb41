"""Compare two images: side by side, under a slider, with the recipe differences."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

COMPARE = reverse("gallery:compare")


def differences(html: str) -> dict[str, tuple[str, str]]:
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td>(.*?)</td><td>(.*?)</td></tr>', html, re.S
    )
    return {key: (left, right) for key, left, right in rows}


def test_side_by_side_with_a_slider_and_the_differences(owner_client, owner):
    a = ImageFactory(
        owner=owner,
        prompt="a red fox",
        endpoint="flux/dev",
        seed=1,
        params={"canvas": "Square", "guidance": 3.5},
    )
    b = ImageFactory(
        owner=owner,
        prompt="a red fox",
        endpoint="flux/schnell",
        seed=2,
        params={"canvas": "Square", "steps": 4},
    )
    response = owner_client.get(COMPARE, {"a": a.pk, "b": b.pk})
    assert response.status_code == 200
    html = response.content.decode()
    for image in (a, b):
        assert f'src="{reverse("gallery:file", args=[image.pk])}"' in html
    assert "data-compare" in html and 'type="range"' in html and "--split: 50%" in html
    assert "<script" not in html.split("</head>")[1]  # no inline script: studio.js drives it
    rows = differences(html)
    assert rows["endpoint"] == ("flux/dev", "flux/schnell")
    assert rows["seed"] == ("1", "2")
    assert rows["guidance"][0] == "3.5" and "—" in rows["guidance"][1]
    assert "—" in rows["steps"][0] and rows["steps"][1] == "4"
    assert "prompt" not in rows and "canvas" not in rows  # the same: not listed


def test_prompt_differences_are_listed_and_escaped(owner_client, owner):
    a = ImageFactory(owner=owner, prompt="<i>cat</i>")
    b = ImageFactory(owner=owner, prompt="dog")
    html = owner_client.get(COMPARE, {"a": a.pk, "b": b.pk}).content.decode()
    assert differences(html)["prompt"] == ("&lt;i&gt;cat&lt;/i&gt;", "dog")


def test_identical_recipes_say_so(owner_client, owner):
    a = ImageFactory(owner=owner, seed=5)
    b = ImageFactory(owner=owner, seed=5)
    html = owner_client.get(COMPARE, {"a": a.pk, "b": b.pk}).content.decode()
    assert "The two recipes are the same" in html


def test_a_team_image_compares_with_ones_own(client, owner, member, team):
    shared = ImageFactory(owner=owner, team=team)
    own = ImageFactory(owner=member)
    client.force_login(member)
    response = client.get(COMPARE, {"a": shared.pk, "b": own.pk})
    assert response.status_code == 200
    assert differences(response.content.decode())["author"] == ("owner", "member")


def test_another_users_image_answers_404(owner_client, owner, outsider):
    mine, theirs = ImageFactory(owner=owner), ImageFactory(owner=outsider)
    assert owner_client.get(COMPARE, {"a": mine.pk, "b": theirs.pk}).status_code == 404
    assert owner_client.get(COMPARE, {"a": theirs.pk, "b": mine.pk}).status_code == 404


@pytest.mark.parametrize("query", [{}, {"a": "1"}, {"a": "x", "b": "2"}, {"a": "3", "b": "3"}])
def test_a_bad_pair_gets_a_clear_message(owner_client, owner, query):
    ImageFactory(owner=owner)
    response = owner_client.get(COMPARE, query)
    assert response.status_code == 400
    assert "Choose two different images to compare" in response.content.decode()


def test_the_slider_script_lives_in_studio_js(client):
    from django.contrib.staticfiles import finders

    with open(finders.find("js/studio.js"), encoding="utf-8") as handle:
        script = handle.read()
    assert "data-compare-range" in script and "--split" in script
