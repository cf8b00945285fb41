"""The team's own API token: checked, stored encrypted (teams/crypto.py), read for its jobs."""

from __future__ import annotations

from django.views.decorators.debug import sensitive_variables

from teams.activity import record
from teams.crypto import decrypt_token, encrypt_token
from teams.membership import TeamRuleError
from teams.models import Team

TOKEN_MIN_LENGTH = 8
TOKEN_MAX_LENGTH = 500


def clean_token(raw: str) -> str:
    token = raw.strip()
    if len(token) < TOKEN_MIN_LENGTH:
        raise TeamRuleError(f"That is too short for an API token ({TOKEN_MIN_LENGTH}+ characters).")
    if len(token) > TOKEN_MAX_LENGTH:
        raise TeamRuleError("That is too long for an API token.")
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        raise TeamRuleError("An API token has no spaces or line breaks.")
    return token


@sensitive_variables("raw", "token")
def set_team_token(team: Team, by, raw: str) -> None:
    """Store (or replace) the team's own token, encrypted; only its last four stay readable."""
    token = clean_token(raw)
    replaced = bool(team.api_token_encrypted)
    team.api_token_encrypted = encrypt_token(token)
    team.api_token_last4 = token[-4:]
    team.save(update_fields=["api_token_encrypted", "api_token_last4"])
    record(
        team,
        by,
        "token_set",
        f"{'replaced' if replaced else 'set'} the team's API token (…{team.api_token_last4})",
    )


def remove_team_token(team: Team, by) -> None:
    if not team.api_token_encrypted:
        return
    team.api_token_encrypted = ""
    team.api_token_last4 = ""
    team.save(update_fields=["api_token_encrypted", "api_token_last4"])
    record(team, by, "token_removed", "removed the team's API token")


@sensitive_variables()
def team_api_token(team: Team) -> str | None:
    """The team's token in clear, for its jobs' API calls; None when it has none."""
    if not team.api_token_encrypted:
        return None
    return decrypt_token(team.api_token_encrypted)
