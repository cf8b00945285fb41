"""Made again: re-run, remix, variations, send to a utility, and recall from a file.

Decisions, in one place:

- A re-run is a *sibling* of the image it repeats, not a child: its job has the same
  endpoint, the same input and the same seed, and the same ``parent_image`` as the
  original (None for a model's image; the utility's input image for a utility's result).
  Lineage "children" are therefore only results of utilities. Which image was re-run is
  not recorded: ``Job.input`` is the body sent to the API verbatim (an extra key would be
  refused by the API's validation), and the identical recipe already says it.
- Re-run, remix and variations are open to anyone who may see the image (its author and
  the members of the team it is shared with); another user's image answers 404.
- Where the result goes: into the acting user's private gallery, unless they choose one
  of their teams they may generate into (owner or editor) in the form's "save to". A team
  image re-run by a member lands in the member's private gallery by default.
- Gallery images the original job used (utilities) travel as signed links that expire;
  a re-run signs them again, and only when the user may still see those images.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from create.forms import form_field_names
from create.services import parent_input
from gallery.links import signed_media_url
from gallery.metadata import (
    gallery_reference,
    gallery_reference_id,
    image_for_name,
    recipe_for_job,
    signed_link_name,
)
from gallery.models import Image
from gallery.recipes import Recipe
from jobs.models import Job
from jobs.quota import TeamSubmitRefused
from jobs.services import MAX_BATCH, create_jobs
from openjourney.catalog import (
    CANVAS_SIZES,
    Endpoint,
    FieldKind,
    UnknownEndpoint,
    get_endpoint,
    validate,
)
from openjourney.netcheck import UnsafeLink, check_link
from teams.models import Membership, Team

# Utilities that take one image and nothing else that must be chosen: "send to" opens
# their form with the image filled in. Face swap needs a second image (see faceswap_url).
SEND_UTILITIES = (
    "utils/upscale",
    "utils/facerestore",
    "utils/clarify",
    "utils/remove-background",
    "utils/prompt-extract",
)
FACESWAP = "utils/faceswap"
DEFAULT_VARIATIONS = 4
MAX_VARIATIONS = MAX_BATCH
# Recall: the form opened for a model that is not in the catalog.
FALLBACK_FLUX = "flux/dev"
FALLBACK_SDXL = "sdxl/generative"
FALLBACK_PONY = "sdxl/pony"
FALLBACK_SD = "sd/1/generative"


class NotRemakable(Exception):
    """The image cannot be made again this way; the message says why, for the user."""


def image_endpoint(image: Image) -> Endpoint:
    """The catalog endpoint that made ``image``; uploads have none."""
    if not image.endpoint:
        raise NotRemakable("This image was uploaded: there is no recipe to run again.")
    try:
        endpoint = get_endpoint(image.endpoint)
    except UnknownEndpoint:
        raise NotRemakable(f"The model {image.endpoint} is no longer offered.") from None
    if endpoint.method != "POST" or not (endpoint.is_model or endpoint.is_utility):
        raise NotRemakable(f"The model {image.endpoint} is no longer offered.")
    return endpoint


def sent_body(image: Image, endpoint: Endpoint) -> dict:
    """The body the image's job sent; rebuilt from the image's recipe when the job is gone."""
    if image.job_id is not None and image.job is not None and image.job.input:
        return dict(image.job.input)
    body: dict = {}
    for spec in endpoint.fields:
        if spec.name == "prompt":
            value = image.prompt
        elif spec.name == "negative_prompt":
            value = image.negative_prompt or None
        elif spec.name == "seed":
            value = image.seed
        else:
            value = image.params.get(spec.name)
        if value is not None:
            body[spec.name] = value
    return body


def _fresh_links(user, endpoint: Endpoint, body: dict) -> tuple[dict, Image | None]:
    """The body with its image links usable again, and the parent image they name."""
    body = dict(body)
    parent_name = parent_input(endpoint)
    parent = None
    for spec in endpoint.image_fields:
        value = body.get(spec.name)
        name = signed_link_name(value)
        if name is None:
            # A link the user gave: checked again, as on submit (its host may have moved).
            try:
                check_link(str(value))
            except UnsafeLink as exc:
                raise NotRemakable(f"The {spec.label.lower()} link is refused: {exc}") from None
            continue
        image = image_for_name(name)
        if image is None or not Image.objects.visible_to(user).filter(pk=image.pk).exists():
            raise NotRemakable(
                f"The {spec.label.lower()} this was made from is no longer in a gallery you "
                "can see, so it cannot be run again."
            )
        body[spec.name] = signed_media_url(image.file.name, user.pk)
        if spec.name == parent_name:
            parent = image
    return body, parent


def _checked(endpoint: Endpoint, body: dict) -> dict:
    """The body as it is (the same input, no defaults added), if the catalog still takes it."""
    result = validate(endpoint, body)
    if not result.ok:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(result.errors.items()))
        raise NotRemakable(f"The recipe no longer fits {endpoint.display_title}: {problems}")
    return body


def _create(
    user,
    endpoint: Endpoint,
    body: dict,
    *,
    count: int,
    seed_locked: bool,
    parent: Image | None,
    team=None,
) -> list[Job]:
    """The jobs, saved to ``team`` when one is chosen (its rules: editors, daily quota)."""
    try:
        return create_jobs(
            user,
            endpoint,
            body,
            count=count,
            seed_locked=seed_locked,
            parent_image=parent,
            team=team,
        )
    except TeamSubmitRefused as refusal:
        raise NotRemakable(str(refusal)) from None


def rerun(user, image: Image, *, team=None) -> Job:
    """One job with the image's endpoint, input and seed: with the local engine, the same
    image again. Its parent is the original's parent (a sibling, not a child)."""
    endpoint = image_endpoint(image)
    body, parent = _fresh_links(user, endpoint, sent_body(image, endpoint))
    body = _checked(endpoint, body)
    if endpoint.takes_seed and image.seed is not None:
        body["seed"] = image.seed
    return _create(user, endpoint, body, count=1, seed_locked=True, parent=parent, team=team)[0]


def variations(user, image: Image, count: int = DEFAULT_VARIATIONS, *, team=None) -> list[Job]:
    """``count`` jobs of the image's recipe, each with a new random seed."""
    endpoint = image_endpoint(image)
    if not endpoint.is_model:
        raise NotRemakable("Variations are for images made by a model, not by a utility.")
    if not 1 <= count <= MAX_VARIATIONS:
        raise NotRemakable(f"Ask for 1 to {MAX_VARIATIONS} variations.")
    body, parent = _fresh_links(user, endpoint, sent_body(image, endpoint))
    body.pop("seed", None)
    body = _checked(endpoint, body)
    return _create(user, endpoint, body, count=count, seed_locked=False, parent=parent, team=team)


# --- prefilled create forms ----------------------------------------------------------------


def create_url(endpoint: Endpoint | str, query: dict[str, str]) -> str:
    slug = endpoint.slug if isinstance(endpoint, Endpoint) else endpoint
    url = reverse("create:create-endpoint", args=[slug])
    return f"{url}?{urlencode(query)}" if query else url


def image_recipe(image: Image) -> Recipe:
    """The image's recipe with image inputs as gallery references (for a form)."""
    endpoint = image_endpoint(image)
    if image.job_id is not None and image.job is not None and image.job.input:
        return recipe_for_job(image.job)
    image_fields = {f.name for f in endpoint.image_fields}
    params = {}
    for key, value in image.params.items():
        if key == "seed":
            continue
        if key in image_fields:
            value = gallery_reference(value)
            if value is None:
                continue
        params[key] = value
    return Recipe(
        endpoint=image.endpoint,
        prompt=image.prompt,
        negative_prompt=image.negative_prompt,
        params=params,
        seed=image.seed,
    )


def nearest_canvas(endpoint: Endpoint, width: int, height: int) -> str | None:
    """The endpoint's canvas closest in shape to ``width`` × ``height``."""
    if not endpoint.canvases or not width or not height:
        return None
    aspect = math.log(width / height)
    return min(
        endpoint.canvases,
        key=lambda c: abs(aspect - math.log(CANVAS_SIZES[c][0] / CANVAS_SIZES[c][1])),
    )


def _as_query_value(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# How settings a form has no field for are named when they are listed as not used.
OTHER_SETTINGS = {
    "prompt": "Prompt",
    "negative_prompt": "Negative prompt",
    "guidance": "CFG scale",
    "scheduler": "Sampler",
}


@dataclass
class Prefill:
    """A create form's query string from a recipe, and what of the recipe did not fit."""

    endpoint: Endpoint
    query: dict[str, str] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return create_url(self.endpoint, self.query)


def prefill(recipe: Recipe, endpoint: Endpoint, *, with_seed: bool) -> Prefill:
    """The query parameters that open ``endpoint``'s form filled with ``recipe``.

    Only values the catalog accepts for that endpoint go in; the rest are listed in
    ``left_out``. Booleans go in only when true (an unchecked box sends nothing).
    """
    result = Prefill(endpoint)
    names = form_field_names(endpoint)
    values: dict[str, object] = dict(recipe.params)
    values["prompt"] = recipe.prompt
    values["negative_prompt"] = recipe.negative_prompt
    if "canvas" not in values and recipe.width and recipe.height:
        canvas = nearest_canvas(endpoint, recipe.width, recipe.height)
        if canvas:
            values["canvas"] = canvas
    if with_seed and recipe.seed is not None:
        values["seed"] = recipe.seed
    for spec in endpoint.fields:
        value = values.pop(spec.name, None)
        if value in (None, "") or spec.name not in names:
            continue
        if spec.kind == FieldKind.IMAGE:
            pk = gallery_reference_id(value)
            if pk is not None:
                result.query[f"{spec.name}_source"] = "gallery"
                result.query[f"{spec.name}_image"] = str(pk)
            elif isinstance(value, str) and value.startswith(("http://", "https://")):
                result.query[f"{spec.name}_source"] = "link"
                result.query[f"{spec.name}_url"] = value
            continue
        if spec.name in ("prompt", "negative_prompt") and spec.max_length:
            value = str(value)[: spec.max_length]
        checked = validate(endpoint, {spec.name: value})
        if spec.name in checked.errors:
            result.left_out.append(f"{spec.label} “{_as_query_value(value)}”")
            continue
        value = checked.data[spec.name]
        if spec.kind == FieldKind.BOOLEAN:
            if value:
                result.query[spec.name] = "on"
            continue
        result.query[spec.name] = _as_query_value(value)
    for key, value in values.items():
        if key == "seed" or value in (None, ""):
            continue
        label = OTHER_SETTINGS.get(key, key.replace("_", " ").capitalize())
        result.left_out.append(f"{label} “{_as_query_value(value)}”")
    return result


def remix_url(image: Image) -> str:
    """The image's create form, filled with its recipe, the seed left empty (a new one)."""
    return prefill(image_recipe(image), image_endpoint(image), with_seed=False).url


def utility_url(image: Image, slug: str) -> str:
    """The form of a one-image utility with ``image`` chosen from the gallery."""
    if slug not in SEND_UTILITIES:
        raise NotRemakable("No such utility.")
    if image.is_svg:
        raise NotRemakable("Utilities take raster images; this one is an SVG.")
    return create_url(slug, {"image_source": "gallery", "image_image": str(image.pk)})


def faceswap_url(target: Image, face: Image) -> str:
    """Face swap's form: the face from ``face`` put into ``target`` (the result's parent)."""
    if target.is_svg or face.is_svg:
        raise NotRemakable("Face swap takes raster images; SVGs cannot be used.")
    return create_url(
        FACESWAP,
        {
            "source_source": "gallery",
            "source_image": str(face.pk),
            "target_source": "gallery",
            "target_image": str(target.pk),
        },
    )


# --- recall from a file --------------------------------------------------------------------


def guess_endpoint(model: str) -> str:
    """The catalog endpoint for a model the catalog does not name, by what it looks like."""
    name = model.lower()
    if "flux" in name:
        return "flux/schnell" if "schnell" in name else FALLBACK_FLUX
    if "pony" in name:
        return FALLBACK_PONY
    if "xl" in name:
        return FALLBACK_SDXL
    if re.search(r"(sd|stable[-_ ]?diffusion)[-_ ]?3[._]5", name):
        if "turbo" in name:
            return "sd/3.5/large-turbo"
        return "sd/3.5/medium" if "medium" in name else "sd/3.5/large"
    if re.search(r"(sd|stable[-_ ]?diffusion)[-_ ]?3", name):
        return "sd/3/generative"
    return FALLBACK_SD


def recall(recipe: Recipe) -> tuple[Prefill, str]:
    """The form a file's recipe opens, prefilled (seed included), and a sentence saying how
    it was chosen."""
    source = recipe.source_label
    if recipe.endpoint:
        endpoint = get_endpoint(recipe.endpoint)
        note = f"Filled in from the {source} recipe in the file."
    else:
        endpoint = get_endpoint(guess_endpoint(recipe.model))
        named = f"model “{recipe.model}”" if recipe.model else "no model the studio knows"
        note = (
            f"Filled in from the {source} recipe in the file. It names {named}, so "
            f"{endpoint.display_title} was chosen: FLUX-looking models open FLUX Dev, "
            "SDXL and Pony ones their SDXL form, SD 3 ones their SD form, others SD 1.0."
        )
    result = prefill(recipe, endpoint, with_seed=True)
    if result.left_out:
        note += " Not used: " + ", ".join(result.left_out) + "."
    return result, note


# --- what the image's page offers ------------------------------------------------------------

FACE_CHOICES = 30


@dataclass
class ImageActions:
    """What "make again" offers for one image to one user (the views check it all again)."""

    image: Image
    endpoint: Endpoint | None
    rerun_exact: bool
    can_vary: bool
    utilities: list[Endpoint]
    faces: list[Image]
    teams: list
    default_count: int = DEFAULT_VARIATIONS
    max_count: int = MAX_VARIATIONS


def face_choices(user, target: Image) -> list[Image]:
    """Recent images the user may see that could lend a face to ``target``: their own and
    their teams', newest first (two queries, each on its own index)."""

    def recent(images):
        return list(
            images.exclude(pk=target.pk)
            .exclude(format="svg")
            .only("pk", "prompt", "width", "height", "placeholder", "created_at")
            .order_by("-created_at", "-id")[:FACE_CHOICES]
        )

    teams = Membership.objects.filter(user=user).values("team_id")
    own = recent(Image.objects.filter(owner=user))
    shared = recent(Image.objects.filter(team_id__in=teams).exclude(owner=user))
    merged = sorted(own + shared, key=lambda i: (i.created_at, i.pk), reverse=True)
    return merged[:FACE_CHOICES]


def actions_for(user, image: Image) -> ImageActions:
    try:
        endpoint = image_endpoint(image)
    except NotRemakable:
        endpoint = None
    raster = not image.is_svg
    return ImageActions(
        image=image,
        endpoint=endpoint,
        rerun_exact=endpoint is not None and (endpoint.takes_seed or endpoint.is_utility),
        can_vary=endpoint is not None and endpoint.is_model,
        utilities=[get_endpoint(slug) for slug in SEND_UTILITIES] if raster else [],
        faces=face_choices(user, image) if raster else [],
        teams=list(Team.objects.editable_by(user)),
    )


def image_actions_section(request: HttpRequest, image: Image) -> dict:
    """The "Make again" section of the image's page (added in create/apps.py)."""
    return {"actions": actions_for(request.user, image)}
