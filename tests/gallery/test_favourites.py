"""The star: on tiles and on the detail page, through HTMX or a plain form post."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gallery.models import Favourite
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


def star_url(image) -> str:
    return reverse("gallery:favourite", args=[image.pk])


def test_htmx_star_saves_and_swaps_the_star(owner_client, owner):
    image = ImageFactory(owner=owner)
    response = owner_client.post(
        star_url(image), {"favourite": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<button")
    assert 'aria-pressed="true"' in html and "is-on" in html
    assert 'name="favourite" value="0"' in html  # the next click unstars
    assert Favourite.objects.filter(user=owner, image=image).exists()

    response = owner_client.post(
        star_url(image), {"favourite": "0"}, headers={"HX-Request": "true"}
    )
    assert 'aria-pressed="false"' in response.content.decode()
    assert not Favourite.objects.filter(user=owner, image=image).exists()


def test_starring_twice_keeps_one_star(owner_client, owner):
    image = ImageFactory(owner=owner)
    owner_client.post(star_url(image), {"favourite": "1"})
    owner_client.post(star_url(image), {"favourite": "1"})
    assert Favourite.objects.filter(user=owner, image=image).count() == 1


def test_without_javascript_the_star_redirects_back(owner_client, owner):
    image = ImageFactory(owner=owner)
    back = f"{reverse('gallery:list')}?q=lighthouse"
    response = owner_client.post(star_url(image), {"favourite": "1", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    response = owner_client.post(
        star_url(image), {"favourite": "0", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("gallery:detail", args=[image.pk])


def test_tiles_and_detail_show_the_star_state(owner_client, owner):
    starred, plain = ImageFactory(owner=owner), ImageFactory(owner=owner)
    Favourite.objects.create(user=owner, image=starred)
    html = owner_client.get(reverse("gallery:list")).content.decode()
    assert html.count('aria-pressed="true"') == 1
    assert html.count('aria-pressed="false"') == 1
    assert f'formaction="{star_url(starred)}"' in html and f'hx-post="{star_url(plain)}"' in html
    detail = owner_client.get(reverse("gallery:detail", args=[starred.pk])).content.decode()
    assert 'aria-pressed="true"' in detail


def test_stars_are_per_user(client, owner, member, team):
    image = ImageFactory(owner=owner, team=team)
    Favourite.objects.create(user=owner, image=image)
    client.force_login(member)
    html = client.get(reverse("gallery:list")).content.decode()
    assert 'aria-pressed="true"' not in html
    client.post(star_url(image), {"favourite": "1"})
    assert Favourite.objects.filter(image=image).count() == 2


def test_a_viewer_may_star_a_team_image(client, owner, viewer, team):
    image = ImageFactory(owner=owner, team=team)
    client.force_login(viewer)
    assert client.post(star_url(image), {"favourite": "1"}).status_code == 302
    assert Favourite.objects.filter(user=viewer, image=image).exists()


def test_another_users_image_cannot_be_starred(owner_client, outsider):
    image = ImageFactory(owner=outsider)
    assert owner_client.post(star_url(image), {"favourite": "1"}).status_code == 404
    htmx = owner_client.post(star_url(image), {"favourite": "1"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 404
    assert not Favourite.objects.exists()


def test_star_needs_a_post(owner_client, owner):
    assert owner_client.get(star_url(ImageFactory(owner=owner))).status_code == 405
