from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

User = get_user_model()


@pytest.mark.django_db
def test_signup_creates_the_account_and_signs_in(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "newcomer",
            "email": "",
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:home")
    user = User.objects.get(username="newcomer")
    assert user.check_password("a long and unusual passphrase")
    assert client.get(reverse("studio:home")).status_code == 200


@pytest.mark.django_db
def test_signup_errors_are_shown_and_nothing_is_created(client):
    response = client.post(
        reverse("accounts:signup"),
        {"username": "newcomer", "password1": "short", "password2": "different"},
    )
    assert response.status_code == 200
    assert "The two password fields didn\u2019t match." in response.content.decode()
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.django_db
def test_signup_refuses_a_taken_username(client, owner):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "owner",
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
    )
    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()


@pytest.mark.django_db
def test_closed_signup_says_so_and_creates_nothing(client, settings):
    settings.SIGNUP_OPEN = False
    response = client.get(reverse("accounts:signup"))
    assert response.status_code == 403
    assert "Sign-up is closed" in response.content.decode()
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "intruder",
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="intruder").exists()
    assert reverse("accounts:signup") not in client.get(reverse("accounts:login")).content.decode()


@pytest.mark.django_db
def test_signed_in_user_is_sent_home(owner_client):
    response = owner_client.get(reverse("accounts:signup"))
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:home")
