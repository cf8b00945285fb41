from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_password_change(owner_client, owner, password):
    response = owner_client.post(
        reverse("accounts:password_change"),
        {
            "old_password": password,
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_changed")
    owner.refresh_from_db()
    assert owner.check_password("another long passphrase")
    # The session that changed it stays signed in.
    assert owner_client.get(reverse("studio:home")).status_code == 200


@pytest.mark.django_db
def test_password_change_needs_the_old_password(owner_client, owner, password):
    response = owner_client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "wrong",
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(password)
