"""The gallery's forms: the search above the grid, collections, bulk actions, sharing."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from gallery.models import Collection, Image
from gallery.search import (
    BadCursor,
    Cursor,
    ImageSearch,
    endpoints_of_family,
    family_choices,
    ids_from,
)
from gallery.sharing import SHARE_LINK_DAYS
from openjourney.catalog import ENDPOINTS
from teams.models import Membership, Team

UPLOADS = "upload"
PRIVATE = "private"
# Below Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000), so the limit is ours to explain.
MAX_BULK = 500


def model_choices() -> list:
    """Families ("flux/": every FLUX model) and their endpoints, grouped, then uploads."""
    choices: list = [("", "Any model")]
    for prefix, label in family_choices():
        members = [(e.slug, e.title) for e in ENDPOINTS if e.slug.startswith(prefix)]
        choices.append((label, [(prefix, f"Any {label}"), *members]))
    choices.append((UPLOADS, "Uploads"))
    return choices


def _model_values() -> set[str]:
    values: set[str] = {UPLOADS}
    for prefix, _ in family_choices():
        values.add(prefix)
        values.update(endpoints_of_family(prefix))
    return values


class ImageFilterForm(forms.Form):
    """The gallery's search, read from the URL so that a search can be shared.

    The team and collection are checked here for their shape only: the view looks them up
    through their helpers, so that another user's team or collection answers 404.
    """

    q = forms.CharField(
        label="Prompt",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Words in the prompt"}),
    )
    model = forms.ChoiceField(label="Model", required=False, choices=model_choices)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    author = forms.CharField(label="Author", required=False, max_length=150)
    team = forms.CharField(label="Team", required=False, widget=forms.Select)
    favourites = forms.BooleanField(label="Favourites only", required=False)
    collection = forms.CharField(label="Collection", required=False, widget=forms.Select)
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    FILTERS = ("q", "model", "date_from", "date_to", "author", "team", "favourites", "collection")

    def __init__(self, *args, user, collections=None, teams=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["model"].choices = model_choices()
        teams = list(teams if teams is not None else Team.objects.for_user(user))
        self.fields["team"].widget.choices = [
            ("", "Any team"),
            (PRIVATE, "Private (mine only)"),
            *[(str(t.pk), t.name) for t in teams],
        ]
        collections = list(
            collections if collections is not None else Collection.objects.filter(owner=user)
        )
        self.fields["collection"].widget.choices = [
            ("", "Any collection"),
            *[(str(c.pk), c.name) for c in collections],
        ]

    def clean_model(self) -> str:
        value = self.cleaned_data["model"]
        if value and value not in _model_values():  # pragma: no cover - ChoiceField checks
            raise forms.ValidationError("Unknown model.")
        return value

    def clean_team(self) -> str:
        value = self.cleaned_data["team"].strip()
        if value and value != PRIVATE and not (value.isdigit() and len(value) < 19):
            raise forms.ValidationError("Choose one of your teams, or “Private”.")
        return value

    def clean_collection(self) -> str:
        value = self.cleaned_data["collection"].strip()
        if value and not (value.isdigit() and len(value) < 19):
            raise forms.ValidationError("Choose one of your collections.")
        return value

    def clean_author(self):
        name = self.cleaned_data["author"].strip()
        if not name:
            return None
        user = self.user
        teams = Membership.objects.filter(user=user).values("team_id")
        # Authors the user can see: themselves, their teams' members, and anyone who shared
        # an image with one of their teams (a member who has since left).
        author = (
            get_user_model()
            .objects.filter(username=name)
            .filter(
                Q(pk=user.pk)
                | Q(memberships__team_id__in=teams)
                | Exists(Image.objects.filter(owner=OuterRef("pk"), team_id__in=teams))
            )
            .first()
        )
        if author is None:
            raise forms.ValidationError(f"No author called “{name}” among the images you can see.")
        return author

    def clean_after(self) -> Cursor | None:
        value = self.cleaned_data["after"].strip()
        if not value:
            return None
        try:
            return Cursor.decode(value)
        except BadCursor:
            raise forms.ValidationError(
                "This page link is damaged: start again from the newest images."
            ) from None

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def search(self, *, team=None, collection=None) -> ImageSearch:
        """The cleaned search; ``team`` and ``collection`` already looked up by the view."""
        data = self.cleaned_data
        model = data.get("model") or ""
        if model == UPLOADS:
            endpoints: list[str] | None = [""]
        elif model.endswith("/"):
            endpoints = endpoints_of_family(model)
        elif model:
            endpoints = [model]
        else:
            endpoints = None
        return ImageSearch(
            text=data.get("q", ""),
            endpoints=endpoints,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            author=data.get("author"),
            team=team,
            private=data.get("team") == PRIVATE,
            favourites=bool(data.get("favourites")),
            collection=collection,
        )

    def query_items(self) -> list[tuple[str, str]]:
        """The filters as given (not the cursor), to build links to further pages."""
        items = []
        for name in self.FILTERS:
            value = self.data.get(name, "")
            if value:
                items.append((name, value))
        return items


class CollectionForm(forms.ModelForm):
    """Create or rename a collection; its name is unique among the owner's collections."""

    class Meta:
        model = Collection
        fields = ["name"]

    def __init__(self, *args, owner, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.fields["name"].widget.attrs.update(placeholder="e.g. Moodboard", maxlength=100)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the collection a name.")
        taken = Collection.objects.filter(owner=self.owner, name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"You already have a collection called “{name}”.")
        return name

    def save(self, commit: bool = True) -> Collection:
        self.instance.owner = self.owner
        return super().save(commit)


class BulkForm(forms.Form):
    """Ticked tiles and what to do with them; ids are checked for access by the view."""

    ACTIONS = (
        ("zip", "Download as zip"),
        ("add", "Add to collection"),
        ("move", "Move to collection"),
        ("remove", "Remove from this collection"),
        ("compare", "Compare"),
        ("delete", "Delete"),
    )

    action = forms.ChoiceField(choices=ACTIONS)
    ids = forms.CharField(required=False)  # read with getlist() in clean
    collection = forms.CharField(required=False)
    from_collection = forms.CharField(required=False)

    def clean_ids(self) -> list[int]:
        values = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        try:
            ids = ids_from(values)
        except ValueError:
            raise forms.ValidationError("The selection is damaged: reload the page.") from None
        if not ids:
            raise forms.ValidationError("Select at least one image first.")
        if len(ids) > MAX_BULK:
            raise forms.ValidationError(f"Select at most {MAX_BULK:,} images at a time.")
        return ids

    def _collection_id(self, name: str) -> int | None:
        value = (self.cleaned_data.get(name) or "").strip()
        if not value:
            return None
        if not value.isdigit() or len(value) > 18:
            raise forms.ValidationError("Choose one of your collections.")
        return int(value)

    def clean_collection(self) -> int | None:
        return self._collection_id("collection")

    def clean_from_collection(self) -> int | None:
        return self._collection_id("from_collection")

    def clean(self) -> dict:
        data = super().clean()
        action = data.get("action")
        if action in ("add", "move") and not data.get("collection") and "collection" in data:
            self.add_error("collection", "Choose the collection to put the images in.")
        if action in ("move", "remove") and not data.get("from_collection"):
            self.add_error(None, "This action works from a collection's page.")
        if action == "compare" and "ids" in data and len(data["ids"]) != 2:
            self.add_error("ids", "Select exactly two images to compare.")
        return data


# --- sharing one image ------------------------------------------------------------------


class ShareWithTeamForm(forms.Form):
    """Where one of the user's images is shared: a team they edit, or private."""

    team = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Share with")

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.teams = {team.pk: team for team in Team.objects.editable_by(user)}
        self.fields["team"].choices = [("", "Private (only me)")] + [
            (pk, team.name) for pk, team in self.teams.items()
        ]

    def clean_team(self) -> Team | None:
        pk = self.cleaned_data.get("team")
        return self.teams.get(pk) if pk is not None else None


class ShareLinkForm(forms.Form):
    days = forms.TypedChoiceField(
        coerce=int,
        choices=[(d, f"{d} day{'s' if d != 1 else ''}") for d in SHARE_LINK_DAYS],
        initial=7,
        label="Expires after",
    )
