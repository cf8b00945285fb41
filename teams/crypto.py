"""Encryption at rest of the teams' own API tokens (Fernet: AES-128-CBC with HMAC-SHA256).

The key is derived with HKDF/SHA-256 from ``settings.TEAM_TOKEN_KEY`` when set, otherwise
from ``settings.SECRET_KEY``. Rotating that secret makes every stored token unreadable:
the team owners must enter their tokens again (the studio says so on the job and the
team's settings page). Set TEAM_TOKEN_KEY to rotate SECRET_KEY without that.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

# Fixed, so the same secret always gives the same key; "v1" names this scheme.
HKDF_SALT = b"openjourney-studio:teams"
HKDF_INFO = b"openjourney-studio team api token v1"


class TokenUnreadable(Exception):
    """A stored token that the current key cannot decrypt (the secret was changed)."""


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _current() -> Fernet:
    return _fernet(getattr(settings, "TEAM_TOKEN_KEY", None) or settings.SECRET_KEY)


@sensitive_variables("raw")
def encrypt_token(raw: str) -> str:
    """The token, encrypted for the database."""
    return _current().encrypt(raw.encode()).decode("ascii")


def decrypt_token(stored: str) -> str:
    """The token back from its stored form; TokenUnreadable if the key has changed."""
    try:
        return _current().decrypt(stored.encode("ascii")).decode()
    except (InvalidToken, ValueError, UnicodeError):
        raise TokenUnreadable(
            "The team's API token can no longer be read (the server's secret key changed); "
            "a team owner must enter it again."
        ) from None
