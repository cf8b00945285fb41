"""The recipe inside the file: PNG text chunks written at store time and read back on recall.

Every PNG the studio stores from a job carries two chunks:

- ``parameters`` (tEXt; iTXt when the prompt is not Latin-1) in the AUTOMATIC1111 layout::

      <prompt>
      Negative prompt: <negative prompt>        (omitted when empty)
      Steps: 30, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 1024x1024, Model: flux/dev, \
Version: openjourney-studio

  The Openjourney API has no step count; A1111 readers expect one, so a nominal count for
  the kind of model is written (4 for few-step models, 1 for utilities, 30 otherwise).
- ``openjourney`` (iTXt, UTF-8 JSON): ``{"version": 1, "recipe": {endpoint, prompt,
  negative_prompt, params, seed}, "lineage": {image, parent, job}}``.

The chunks are spliced in at the byte level, before the first IDAT (openjourney/pngtext.py):
the pixels and the compressed image data stay exactly as the API sent them (no
re-encoding). Two decisions:

- ``lineage.image`` is null in stored files: the image's id is only known once its row is
  saved, and rewriting the file afterwards would be a second write that can half-fail. The
  job id identifies the image (``Image.job`` is one-to-one).
- Gallery images given to a utility travel as signed, expiring links. Such a link is never
  written into a file (whoever gets the file could fetch the input while the link lives):
  it becomes ``"gallery:<image id>"`` (gallery/metadata.py), which only the studio can
  resolve, and only for users who may see that image.

Because the lineage names the job, a re-run's file differs from the original's in that
chunk only; :func:`content_checksum` (the file without our two chunks: the API's own bytes)
is what is equal between them.

:func:`read_recipe` understands our chunk, A1111's ``parameters`` and InvokeAI's
``invokeai_metadata``, in that order of preference. Malformed chunks are ignored, never
raised: a file from anywhere may carry anything. No database here: what needs one (signed
links, gallery references, a job's recipe) is in gallery/metadata.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from dataclasses import dataclass, field, replace

from PIL import Image as PILImage

from openjourney.catalog import UnknownEndpoint, get_endpoint
from openjourney.pngtext import (
    A1111_KEY,
    INVOKEAI_KEY,
    MAX_TEXT_BYTES,
    OPENJOURNEY_KEY,
    MalformedPng,
    Parameters,
    is_png,
    itxt_chunk,
    parse_seed,
    png_size,
    png_text,
    splice_text,
    strip_text,
    text_chunk,
)
from openjourney.pngtext import parse_a1111 as parse_a1111_parameters
from openjourney.pngtext import parse_invokeai as parse_invokeai_parameters

OUR_KEY = OPENJOURNEY_KEY
FORMAT_VERSION = 1
STUDIO_VERSION = "openjourney-studio"
# Our two chunks, replaced whenever a recipe is embedded again.
OUR_CHUNKS = (A1111_KEY, OUR_KEY)

SOURCE_LABELS = {
    OUR_KEY: "Openjourney Studio",
    "a1111": "AUTOMATIC1111",
    "invokeai": "InvokeAI",
}


@dataclass
class Recipe:
    """What a file says about how it was made, in the studio's terms.

    ``endpoint`` is a catalog slug when the file names one, else "" (the model it names is
    in ``model``). ``params`` holds the other catalog fields (canvas, guidance, scheduler…),
    never prompt, negative prompt or seed.
    """

    endpoint: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    params: dict[str, object] = field(default_factory=dict)
    seed: int | None = None
    source: str = OUR_KEY
    model: str = ""
    width: int | None = None
    height: int | None = None
    lineage: dict[str, int | None] = field(default_factory=dict)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)


# --- the file ------------------------------------------------------------------------------


def strip_recipe(content: bytes) -> bytes:
    """The PNG without our two chunks (for a stored result: the bytes the API sent)."""
    return strip_text(content, OUR_CHUNKS)


def content_checksum(content: bytes) -> str:
    """SHA-256 of the image as made: for a PNG, without the recipe chunks we add."""
    if is_png(content):
        with contextlib.suppress(MalformedPng):
            content = strip_recipe(content)
    return hashlib.sha256(content).hexdigest()


def embed_recipe(png_bytes: bytes, recipe: Recipe, lineage: dict[str, int | None]) -> bytes:
    """The PNG with our ``parameters`` and ``openjourney`` chunks (replacing any earlier).

    Spliced before the first IDAT, no re-encoding: the image data are byte-for-byte the
    same. Raises MalformedPng when the chunks cannot be walked.
    """
    width, height = png_size(png_bytes)
    if recipe.width is None or recipe.height is None:
        recipe = replace(recipe, width=width, height=height)
    new = text_chunk(A1111_KEY, a1111_parameters(recipe)) + itxt_chunk(
        OUR_KEY, our_json(recipe, lineage)
    )
    return splice_text(png_bytes, new, OUR_CHUNKS)


# --- writing -------------------------------------------------------------------------------


def nominal_steps(endpoint: str) -> int:
    """The step count written for A1111 readers (the API does not expose one)."""
    try:
        spec = get_endpoint(endpoint)
    except UnknownEndpoint:
        return 30
    if spec.is_utility:
        return 1
    few_step = ("schnell", "turbo", "lightning", "hyper")
    if any(word in spec.slug for word in few_step):
        return 4
    return 30


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _a1111_value(value: object) -> str:
    """A value as A1111 writes it: quoted (JSON) when it holds a comma, colon or quote."""
    text = _number(value).replace("\n", " ")
    if any(ch in text for ch in ',:"'):
        return json.dumps(text, ensure_ascii=False)
    return text


def a1111_parameters(recipe: Recipe) -> str:
    """The ``parameters`` text in the AUTOMATIC1111 layout."""
    params = recipe.params
    pairs: list[tuple[str, object]] = [
        ("Steps", nominal_steps(recipe.endpoint)),
        ("Sampler", params.get("scheduler") or "Euler a"),
        ("CFG scale", params.get("guidance") or 7),
    ]
    if recipe.seed is not None:
        pairs.append(("Seed", recipe.seed))
    if recipe.width and recipe.height:
        pairs.append(("Size", f"{recipe.width}x{recipe.height}"))
    pairs += [("Model", recipe.endpoint or recipe.model), ("Version", STUDIO_VERSION)]
    lines = [recipe.prompt]
    if recipe.negative_prompt:
        lines.append(f"Negative prompt: {recipe.negative_prompt}")
    lines.append(", ".join(f"{key}: {_a1111_value(value)}" for key, value in pairs))
    return "\n".join(lines)


def our_json(recipe: Recipe, lineage: dict[str, int | None]) -> str:
    """Our own chunk: the full recipe and the lineage, as JSON."""
    return json.dumps(
        {
            "version": FORMAT_VERSION,
            "recipe": {
                "endpoint": recipe.endpoint,
                "prompt": recipe.prompt,
                "negative_prompt": recipe.negative_prompt,
                "params": recipe.params,
                "seed": recipe.seed,
            },
            "lineage": {
                "image": lineage.get("image"),
                "parent": lineage.get("parent"),
                "job": lineage.get("job"),
            },
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )


# --- reading -------------------------------------------------------------------------------


def _scalar(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int, bool))


def parse_ours(text: str) -> Recipe | None:
    """Our JSON chunk; None when it is not one we wrote (or is damaged)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        return None
    recipe = data.get("recipe")
    if not isinstance(recipe, dict):
        return None
    endpoint = recipe.get("endpoint")
    params = recipe.get("params")
    lineage = data.get("lineage")
    result = Recipe(
        endpoint=endpoint if isinstance(endpoint, str) else "",
        prompt=recipe["prompt"] if isinstance(recipe.get("prompt"), str) else "",
        negative_prompt=(
            recipe["negative_prompt"] if isinstance(recipe.get("negative_prompt"), str) else ""
        ),
        params={
            k: v
            for k, v in (params.items() if isinstance(params, dict) else ())
            if isinstance(k, str) and k not in ("prompt", "negative_prompt", "seed") and _scalar(v)
        },
        seed=parse_seed(recipe.get("seed")),
        source=OUR_KEY,
        model=endpoint if isinstance(endpoint, str) else "",
        lineage={
            key: value
            for key, value in (lineage.items() if isinstance(lineage, dict) else ())
            if key in ("image", "parent", "job")
            and (value is None or (isinstance(value, int) and not isinstance(value, bool)))
        },
    )
    if not (result.endpoint or result.prompt):
        return None
    return result


def _from_parameters(found: Parameters | None, source: str) -> Recipe | None:
    """Another tool's parameters as a recipe (guidance and scheduler among the params)."""
    if found is None:
        return None
    recipe = Recipe(
        endpoint=found.endpoint,
        prompt=found.prompt,
        negative_prompt=found.negative_prompt,
        seed=found.seed,
        source=source,
        model=found.model,
        width=found.width,
        height=found.height,
    )
    if found.guidance is not None:
        recipe.params["guidance"] = found.guidance
    if found.scheduler:
        recipe.params["scheduler"] = found.scheduler
    return recipe


def parse_a1111(text: str) -> Recipe | None:
    """AUTOMATIC1111's ``parameters`` as a recipe (openjourney/pngtext.py reads them)."""
    return _from_parameters(parse_a1111_parameters(text), "a1111")


def parse_invokeai(text: str) -> Recipe | None:
    """InvokeAI's ``invokeai_metadata`` as a recipe."""
    return _from_parameters(parse_invokeai_parameters(text), "invokeai")


def _texts_of(image: bytes | PILImage.Image) -> dict[str, str]:
    if isinstance(image, (bytes, bytearray, memoryview)):
        return png_text(bytes(image))
    texts: dict[str, str] = {}
    try:
        # PngImageFile.text also reads the chunks after the image data.
        source = getattr(image, "text", None) or image.info
    except (OSError, SyntaxError, ValueError):
        source = image.info
    for key, value in dict(source).items():
        if isinstance(key, str) and isinstance(value, str) and len(value) <= MAX_TEXT_BYTES:
            texts[key] = value
    return texts


def read_recipe(image: bytes | PILImage.Image) -> Recipe | None:
    """The recipe a PNG carries (ours, else A1111's, else InvokeAI's), or None."""
    texts = _texts_of(image)
    readers = ((OUR_KEY, parse_ours), (A1111_KEY, parse_a1111), (INVOKEAI_KEY, parse_invokeai))
    for key, reader in readers:
        recipe = reader(texts[key]) if key in texts else None
        if recipe is None:
            continue
        if recipe.width is None or recipe.height is None:
            if isinstance(image, PILImage.Image):
                recipe.width, recipe.height = image.size
            else:
                with contextlib.suppress(MalformedPng):
                    recipe.width, recipe.height = png_size(bytes(image))
        return recipe
    return None
