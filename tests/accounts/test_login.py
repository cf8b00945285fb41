from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_sign_in_goes_to_next(client, owner, password):
    response = client.post(
        reverse("accounts:login"),
        {"username": "owner", "password": password, "next": reverse("jobs:list")},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:list")


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_message(client, owner):
    response = client.post(reverse("accounts:login"), {"username": "owner", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_next_cannot_leave_the_site(client, owner, password):
    response = client.post(
        reverse("accounts:login"),
        {"username": "owner", "password": password, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:home")
