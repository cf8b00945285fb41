from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_sign_out_ends_the_session(owner_client):
    response = owner_client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert owner_client.get(reverse("studio:home")).status_code == 302


@pytest.mark.django_db
def test_sign_out_needs_post(owner_client):
    assert owner_client.get(reverse("accounts:logout")).status_code == 405
    assert owner_client.get(reverse("studio:home")).status_code == 200
