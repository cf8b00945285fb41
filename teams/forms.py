"""Forms of the team pages; the rules behind them live in teams/membership.py and tokens.py."""

from __future__ import annotations

from django import forms

from teams.models import Role
from teams.tokens import TOKEN_MAX_LENGTH


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True, label="Team name")

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the team a name.")
        return name


class InviteMemberForm(forms.Form):
    username = forms.CharField(max_length=150, strip=True, label="Username")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR, label="Role")


class InviteLinkForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER, label="Joins as")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label="Role")


class TokenForm(forms.Form):
    token = forms.CharField(
        max_length=TOKEN_MAX_LENGTH,
        strip=True,
        label="API token",
        # Never rendered back: a failed submit asks for the token again.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted; afterwards only its last four characters are shown.",
    )


class QuotaForm(forms.Form):
    daily_job_quota = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100_000,
        label="Daily jobs per member",
        help_text="Leave empty for no limit. The count starts again at midnight.",
    )
