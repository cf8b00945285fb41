"""One form per catalog endpoint, built from the catalog: never written out by hand.

Validation is the catalog's own (``openjourney.catalog.validate``), run on the body the
studio will send; its errors are shown on the fields they name. Image fields take a
gallery image, an upload or a link.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from gallery.models import Image
from gallery.services import InvalidResult, decode_raster, sniff_image
from jobs.quota import QuotaExceeded, check_quota
from openjourney.catalog import SEED_MAX, Endpoint, FieldKind, validate
from openjourney.netcheck import UnsafeLink, check_link
from teams.models import Team

IMAGE_SOURCES = [("gallery", "From my gallery"), ("upload", "Upload"), ("link", "Link")]


class GalleryImageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Image) -> str:
        text = obj.prompt[:60] or "upload"
        return f"#{obj.pk} · {text} ({obj.width}×{obj.height})"


def _catalog_field(spec) -> forms.Field:
    common = {"required": spec.required, "label": spec.label, "help_text": spec.help}
    if spec.choices:
        choices = list(zip(spec.choices, spec.choices, strict=True))
        if not spec.required and spec.default is None:
            choices = [("", "—"), *choices]
        return forms.ChoiceField(choices=choices, initial=spec.default, **common)
    if spec.kind == FieldKind.BOOLEAN:
        return forms.BooleanField(required=False, label=spec.label, help_text=spec.help)
    if spec.kind == FieldKind.INTEGER:
        return forms.IntegerField(
            min_value=spec.minimum, max_value=spec.maximum, initial=spec.default, **common
        )
    if spec.kind == FieldKind.NUMBER:
        field = forms.FloatField(
            min_value=spec.minimum, max_value=spec.maximum, initial=spec.default, **common
        )
        field.widget.attrs["step"] = "0.5"
        return field
    widget = forms.Textarea(attrs={"rows": 3}) if spec.multiline else forms.TextInput()
    return forms.CharField(
        max_length=spec.max_length, widget=widget, initial=spec.default, strip=True, **common
    )


def form_field_names(endpoint: Endpoint) -> set[str]:
    """Every name the endpoint's form has (catalog fields, seed lock, image sources, count)."""
    names = {"count", "seed_locked", "save_to"}
    for spec in endpoint.fields:
        names.add(spec.name)
        if spec.kind == FieldKind.IMAGE:
            names |= {f"{spec.name}_{part}" for part in ("source", "image", "upload", "url")}
    return names


class EndpointForm(forms.Form):
    """The form of one endpoint, for one user."""

    def __init__(self, endpoint: Endpoint, user, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.endpoint = endpoint
        self.user = user
        self.image_field_names: list[str] = []
        for spec in endpoint.fields:
            if spec.kind == FieldKind.IMAGE:
                self._add_image_fields(spec)
            elif spec.name == "seed":
                self.fields["seed"] = forms.IntegerField(
                    required=False,
                    min_value=0,
                    max_value=SEED_MAX,
                    label="Seed",
                    help_text="Leave blank for a random seed; the one used is kept.",
                )
                self.fields["seed_locked"] = forms.BooleanField(
                    required=False,
                    label="Lock",
                    help_text="With a count above 1: seed, seed+1, … instead of random seeds.",
                )
            else:
                self.fields[spec.name] = _catalog_field(spec)
        if endpoint.is_model:
            self.fields["count"] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=8,
                initial=1,
                label="Count",
                help_text="1 to 8 images.",
            )
        self._add_save_to()
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"id_{name}")

    def _add_save_to(self) -> None:
        """The "Save to" choice: private, or a team the user may add images to (owner, editor)."""
        self.save_to_teams = {str(team.pk): team for team in Team.objects.editable_by(self.user)}
        choices = [("", "Private"), *((pk, team.name) for pk, team in self.save_to_teams.items())]
        self.fields["save_to"] = forms.ChoiceField(
            choices=choices,
            required=False,
            label="Save to",
            help_text="Your private gallery, or the gallery of a team you add images to.",
            error_messages={
                "invalid_choice": "You can't save to that team: choose Private or a team "
                "where you are an owner or editor."
            },
        )

    def _add_image_fields(self, spec) -> None:
        name = spec.name
        self.image_field_names.append(name)
        self.fields[f"{name}_source"] = forms.ChoiceField(
            choices=IMAGE_SOURCES, initial="gallery", widget=forms.RadioSelect, label=spec.label
        )
        self.fields[f"{name}_image"] = GalleryImageChoiceField(
            # Any image the user may see (theirs and their teams'): "send to a utility".
            queryset=Image.objects.visible_to(self.user).exclude(format="svg"),
            required=False,
            label="Gallery image",
        )
        self.fields[f"{name}_upload"] = forms.FileField(
            required=False,
            label="Upload",
            widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
        )
        self.fields[f"{name}_url"] = forms.URLField(
            required=False, label="Link", assume_scheme="https", max_length=2048
        )

    # --- cleaning ---------------------------------------------------------------------

    def _clean_image_input(self, name: str, data: dict) -> object:
        """The chosen source of image field ``name``: an Image, an upload or a URL."""
        source = data.get(f"{name}_source") or "gallery"
        if source == "gallery":
            image = data.get(f"{name}_image")
            if image is None:
                self.add_error(f"{name}_image", "Choose an image from your gallery.")
            return image
        if source == "upload":
            upload: UploadedFile | None = data.get(f"{name}_upload")
            if upload is None:
                self.add_error(f"{name}_upload", "Choose a file to upload.")
                return None
            if upload.size > settings.STUDIO_MAX_UPLOAD_BYTES:
                limit = settings.STUDIO_MAX_UPLOAD_BYTES // (1024 * 1024)
                self.add_error(f"{name}_upload", f"The file is larger than {limit} MB.")
                return None
            content = upload.read()
            upload.seek(0)
            try:
                # The bytes decide what the file is, never its declared type.
                if sniff_image(content) == "svg":
                    raise InvalidResult(
                        f"{self.endpoint.title} takes a PNG, JPEG, WebP or GIF image; "
                        "this file is an SVG."
                    )
                decode_raster(content, settings.STUDIO_MAX_UPLOAD_PIXELS)
            except InvalidResult as exc:
                self.add_error(f"{name}_upload", str(exc))
                return None
            return upload
        url = data.get(f"{name}_url")
        if not url:
            self.add_error(f"{name}_url", "Enter a link to an image.")
            return None
        try:
            check_link(url)
        except UnsafeLink as exc:
            self.add_error(f"{name}_url", str(exc))
            return None
        return url

    def clean(self) -> dict:
        data = super().clean()
        body: dict = {}
        self.image_inputs: dict[str, object] = {}
        for spec in self.endpoint.fields:
            if spec.kind == FieldKind.IMAGE:
                self.image_inputs[spec.name] = self._clean_image_input(spec.name, data)
                # A stand-in URL for the catalog's check; the real link is made on submit.
                body[spec.name] = "https://studio.invalid/pending"
                continue
            value = data.get(spec.name)
            if value in (None, "") and not spec.required:
                continue
            if spec.kind == FieldKind.BOOLEAN and not value:
                continue
            body[spec.name] = value
        result = validate(self.endpoint, body)
        for field, messages in result.errors.items():
            target = field if field in self.fields else None
            for message in messages:
                if target is None or message not in self.errors.get(target, []):
                    self.add_error(target, message)
        self.body = {k: v for k, v in result.data.items() if k not in self.image_inputs}
        self.team = self.save_to_teams.get(data.get("save_to") or "")
        if self.team is not None:
            try:
                # A first look; create_jobs checks again with the member's row locked.
                check_quota(self.team, self.user, data.get("count") or 1)
            except QuotaExceeded as error:
                self.add_error("save_to", str(error))
        return data

    def layout(self) -> list[dict]:
        """The fields in catalog order, grouped for the template (seed, image inputs)."""
        items: list[dict] = []
        for spec in self.endpoint.fields:
            if spec.kind == FieldKind.IMAGE:
                name = spec.name
                items.append(
                    {
                        "kind": "image",
                        "name": name,
                        "label": spec.label,
                        "help": spec.help,
                        "source": self[f"{name}_source"],
                        "panels": [
                            ("gallery", self[f"{name}_image"]),
                            ("upload", self[f"{name}_upload"]),
                            ("link", self[f"{name}_url"]),
                        ],
                    }
                )
            elif spec.name == "seed":
                items.append({"kind": "seed", "field": self["seed"], "lock": self["seed_locked"]})
            else:
                items.append({"kind": "field", "field": self[spec.name]})
        if "count" in self.fields:
            items.append({"kind": "field", "field": self["count"]})
        items.append({"kind": "field", "field": self["save_to"]})
        return items
