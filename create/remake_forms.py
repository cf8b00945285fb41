"""The small forms of "made again": save to (re-run), count (variations), recall a file."""

from __future__ import annotations

from django import forms
from django.conf import settings

from create.remake import DEFAULT_VARIATIONS, MAX_VARIATIONS
from gallery.recipes import Recipe, read_recipe
from gallery.services import InvalidResult, decode_raster, sniff_image
from teams.models import Team

NO_RECIPE = (
    "This image carries no recipe: it has no Openjourney, AUTOMATIC1111 or InvokeAI "
    "metadata (many sites and editors remove it). Pick a model on the left and type the "
    "prompt instead."
)


class RemakeForm(forms.Form):
    """Where the result goes: the user's private gallery (the default) or one of their teams
    they may generate into."""

    save_to = forms.ChoiceField(
        required=False,
        label="Save to",
        error_messages={
            "invalid_choice": "You can't save to that team: choose Private or a team "
            "where you are an owner or editor."
        },
    )

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.teams = {str(team.pk): team for team in Team.objects.editable_by(user)}
        self.fields["save_to"].choices = [
            ("", "Private"),
            *((pk, team.name) for pk, team in self.teams.items()),
        ]

    @property
    def team(self) -> Team | None:
        return self.teams.get(self.cleaned_data.get("save_to") or "")


class VariationsForm(RemakeForm):
    count = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_VARIATIONS,
        initial=DEFAULT_VARIATIONS,
        label="How many",
        error_messages={
            "min_value": f"Ask for 1 to {MAX_VARIATIONS} variations.",
            "max_value": f"Ask for 1 to {MAX_VARIATIONS} variations.",
            "invalid": f"Ask for 1 to {MAX_VARIATIONS} variations.",
        },
    )

    def clean_count(self) -> int:
        return self.cleaned_data.get("count") or DEFAULT_VARIATIONS


class RecallForm(forms.Form):
    """A PNG whose recipe opens the matching create form."""

    file = forms.FileField(
        label="Image with a recipe",
        help_text="A PNG made by Openjourney Studio, AUTOMATIC1111 or InvokeAI.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/*"}),
        error_messages={"required": "Choose an image file.", "empty": "The file is empty."},
    )

    @property
    def max_mb(self) -> int:
        return settings.STUDIO_MAX_UPLOAD_BYTES // (1024 * 1024)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.STUDIO_MAX_UPLOAD_BYTES:
            limit = settings.STUDIO_MAX_UPLOAD_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"The file is larger than {limit} MB.")
        content = upload.read()
        try:
            # The bytes decide what the file is, never its declared type.
            if sniff_image(content) == "svg":
                raise InvalidResult("This file is an SVG; recipes are read from PNG files.")
            decode_raster(content, settings.STUDIO_MAX_UPLOAD_PIXELS)
        except InvalidResult as exc:
            raise forms.ValidationError(str(exc)) from None
        recipe = read_recipe(content)
        if recipe is None:
            raise forms.ValidationError(NO_RECIPE)
        self.recipe: Recipe = recipe
        return upload
