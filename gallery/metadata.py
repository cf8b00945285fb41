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

The chunks are spliced in at the byte level, before the first IDAT: the pixels and the
compressed image data stay exactly as the API sent them (no re-encoding). Two decisions:

- ``lineage.image`` is null in stored files: the image's id is only known once its row is
  saved, and rewriting the file afterwards would be a second write that can half-fail. The
  job id identifies the image (``Image.job`` is one-to-one).
- Gallery images given to a utility travel as signed, expiring links. Such a link is never
  written into a file (whoever gets the file could fetch the input while the link lives):
  it becomes ``"gallery:<image id>"``, which only the studio can resolve, and only for users
  who may see that image.

Because the lineage names the job, a re-run's file differs from the original's in that
chunk only; :func:`content_checksum` (the file without our two chunks: the API's own bytes)
is what is equal between them.

:func:`read_recipe` understands our chunk, A1111's ``parameters`` and InvokeAI's
``invokeai_metadata``, in that order of preference. Malformed chunks are ignored, never
raised: a file from anywhere may carry anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from PIL import Image as PILImage

from openjourney.catalog import SEED_MAX, UnknownEndpoint, get_endpoint

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
A1111_KEY = "parameters"
OUR_KEY = "openjourney"
INVOKEAI_KEY = "invokeai_metadata"
FORMAT_VERSION = 1
STUDIO_VERSION = "openjourney-studio"
# A text chunk larger than this is not a recipe; compressed ones are never inflated past it.
MAX_TEXT_BYTES = 256 * 1024
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
GALLERY_REF = "gallery:"

SOURCE_LABELS = {
    OUR_KEY: "Openjourney Studio",
    "a1111": "AUTOMATIC1111",
    "invokeai": "InvokeAI",
}


class MalformedPng(ValueError):
    """The bytes are not a PNG whose chunks can be walked."""


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


# --- PNG chunks ---------------------------------------------------------------------------


def is_png(content: bytes) -> bool:
    return content[:8] == PNG_SIGNATURE


def _walk(content: bytes) -> Iterator[tuple[int, bytes, int, int]]:
    """(start, type, data start, end) of each chunk up to and including IEND."""
    if not is_png(content):
        raise MalformedPng("Not a PNG file.")
    pos, size = 8, len(content)
    while pos + 12 <= size:
        length = int.from_bytes(content[pos : pos + 4], "big")
        kind = content[pos + 4 : pos + 8]
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > size:
            raise MalformedPng("A chunk runs past the end of the file.")
        yield pos, kind, pos + 8, end
        if kind == b"IEND":
            return
        pos = end
    raise MalformedPng("The file has no IEND chunk.")


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return len(data).to_bytes(4, "big") + kind + data + crc.to_bytes(4, "big")


def _keyword(data: bytes | memoryview) -> str:
    return bytes(data[:80]).split(b"\0", 1)[0].decode("latin-1")


def _inflate(data: bytes) -> bytes | None:
    """zlib-inflate at most MAX_TEXT_BYTES; None when broken or larger (a bomb)."""
    try:
        inflater = zlib.decompressobj()
        out = inflater.decompress(data, MAX_TEXT_BYTES + 1)
    except zlib.error:
        return None
    return None if len(out) > MAX_TEXT_BYTES else out


def _text_of(kind: bytes, data: bytes) -> tuple[str, str] | None:
    """(keyword, text) of a tEXt, zTXt or iTXt chunk; None when it cannot be read."""
    key, sep, rest = data.partition(b"\0")
    if not sep or not key or len(key) > 79:
        return None
    keyword = key.decode("latin-1")
    try:
        if kind == b"tEXt":
            return keyword, rest.decode("latin-1")
        if kind == b"zTXt":
            text = _inflate(rest[1:]) if rest[:1] == b"\0" else None
            return None if text is None else (keyword, text.decode("latin-1"))
        # iTXt: flag, method, language\0, translated keyword\0, text.
        if len(rest) < 2:
            return None
        flag, method, tail = rest[0], rest[1], rest[2:]
        parts = tail.split(b"\0", 2)
        if len(parts) != 3:
            return None
        text = parts[2]
        if flag == 1:
            if method != 0:
                return None
            text = _inflate(text)
            if text is None:
                return None
        return keyword, text.decode("utf-8")
    except UnicodeDecodeError:
        return None


def png_text(content: bytes) -> dict[str, str]:
    """The text chunks of a PNG, by keyword (the first of each keyword wins)."""
    texts: dict[str, str] = {}
    try:
        for _start, kind, data_start, end in _walk(content):
            if kind not in TEXT_CHUNKS or end - data_start - 4 > MAX_TEXT_BYTES:
                continue
            found = _text_of(kind, content[data_start : end - 4])
            if found is not None and found[0] not in texts:
                texts[found[0]] = found[1]
    except MalformedPng:
        pass  # whatever was read before the damage still counts
    return texts


def png_size(content: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk."""
    if not is_png(content) or content[12:16] != b"IHDR":
        raise MalformedPng("The file has no IHDR chunk.")
    return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")


def _text_chunk(keyword: str, text: str) -> bytes:
    """tEXt when the text is Latin-1 (what A1111 readers look for first), else iTXt."""
    text = text.replace("\0", "")
    try:
        return _chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:
        return _itxt_chunk(keyword, text)


def _itxt_chunk(keyword: str, text: str) -> bytes:
    header = keyword.encode("latin-1") + b"\0" + b"\0\0" + b"\0" + b"\0"
    return _chunk(b"iTXt", header + text.encode("utf-8"))


def _without_ours(content: bytes) -> Iterator[tuple[int, bytes, int, int]]:
    """The chunks, less any ``parameters``/``openjourney`` text chunk."""
    for start, kind, data_start, end in _walk(content):
        if kind in TEXT_CHUNKS and _keyword(memoryview(content)[data_start:end]) in (
            A1111_KEY,
            OUR_KEY,
        ):
            continue
        yield start, kind, data_start, end


def strip_recipe(content: bytes) -> bytes:
    """The PNG without our two chunks (for a stored result: the bytes the API sent)."""
    view = memoryview(content)
    kept = [view[:8]]
    last_end = 8
    for start, _kind, _data_start, end in _without_ours(content):
        kept.append(view[start:end])
        last_end = end
    kept.append(view[last_end:])  # anything after IEND stays as it was
    return b"".join(kept)


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
    new = _text_chunk(A1111_KEY, a1111_parameters(recipe)) + _itxt_chunk(
        OUR_KEY, our_json(recipe, lineage)
    )
    view = memoryview(png_bytes)
    parts: list[bytes | memoryview] = [view[:8]]
    inserted = False
    last_end = 8
    for start, kind, _data_start, end in _without_ours(png_bytes):
        if not inserted and kind in (b"IDAT", b"IEND"):
            parts.append(new)
            inserted = True
        parts.append(view[start:end])
        last_end = end
    parts.append(view[last_end:])
    return b"".join(parts)


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


def signed_link_name(url: object) -> str | None:
    """The storage name behind one of our signed media links (even an expired one).

    The signature is still checked: a forged link names nothing. Expiry is not, because the
    question here is which stored image a past job used, not whether it may be fetched now.
    """
    from django.core import signing

    from openjourney.links import MEDIA_LINK_PATH, MEDIA_LINK_SALT

    if not isinstance(url, str):
        return None
    path = urlsplit(url).path
    if MEDIA_LINK_PATH not in path:
        return None
    value = path.split(MEDIA_LINK_PATH, 1)[1]
    try:
        payload = signing.loads(value, salt=MEDIA_LINK_SALT)
    except signing.BadSignature:
        return None
    name = payload.get("n") if isinstance(payload, dict) else None
    return name if isinstance(name, str) else None


def image_for_name(name: str):
    """The gallery image stored under ``name``, or None (uses the owner's index)."""
    from gallery.models import Image

    images = Image.objects.filter(file=name)
    match = re.match(r"images/(\d+)/", name)
    if match:
        images = images.filter(owner_id=int(match.group(1)))
    return images.first()


def gallery_reference(url: object) -> str | None:
    """``gallery:<id>`` for one of our signed links, the link itself when it is someone
    else's, None when it is ours but its image is gone."""
    name = signed_link_name(url)
    if name is None:
        return url if isinstance(url, str) else None
    image = image_for_name(name)
    return f"{GALLERY_REF}{image.pk}" if image is not None else None


def gallery_reference_id(value: object) -> int | None:
    """The image id of a ``gallery:<id>`` reference, else None."""
    if isinstance(value, str) and value.startswith(GALLERY_REF):
        number = value[len(GALLERY_REF) :]
        if number.isdigit() and len(number) < 19:
            return int(number)
    return None


def recipe_for_job(job) -> Recipe:
    """The recipe of a job, as written into its result (links made gallery references)."""
    try:
        image_fields = {f.name for f in get_endpoint(job.endpoint).image_fields}
    except UnknownEndpoint:
        image_fields = set()
    params: dict[str, object] = {}
    for key, value in (job.input or {}).items():
        if key in ("prompt", "negative_prompt", "seed"):
            continue
        if key in image_fields:
            value = gallery_reference(value)
            if value is None:
                continue
        params[key] = value
    return Recipe(
        endpoint=job.endpoint,
        prompt=str(job.input.get("prompt", "")),
        negative_prompt=str(job.input.get("negative_prompt", "")),
        params=params,
        seed=job.seed,
    )


def lineage_for_job(job) -> dict[str, int | None]:
    return {"image": None, "parent": job.parent_image_id, "job": job.pk}


def embed_job_recipe(job, content: bytes) -> bytes:
    """A job's result with its recipe embedded when it is a PNG; anything else unchanged
    (a PNG too broken to walk is left for decode_raster to refuse with a clear message)."""
    if not is_png(content):
        return content
    try:
        return embed_recipe(content, recipe_for_job(job), lineage_for_job(job))
    except MalformedPng:
        return content


# --- reading -------------------------------------------------------------------------------


def _seed(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= SEED_MAX:
        return value
    return None


def _dimension(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 100_000:
        return value
    return None


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
        seed=_seed(recipe.get("seed")),
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


# A1111's own pattern for the settings line (modules/infotext_utils.py).
_A1111_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SIZE = re.compile(r"^\s*(\d{1,6})\s*x\s*(\d{1,6})\s*$")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            decoded = json.loads(value)
        except ValueError:
            return value[1:-1]
        return decoded if isinstance(decoded, str) else value[1:-1]
    return value


def parse_a1111(text: str) -> Recipe | None:
    """AUTOMATIC1111's ``parameters``: prompt, ``Negative prompt:``, then ``Key: value``s."""
    lines = text.replace("\r\n", "\n").strip().split("\n")
    settings: dict[str, str] = {}
    if lines and len(_A1111_PAIR.findall(lines[-1])) >= 3:
        settings = {key.strip(): _unquote(value) for key, value in _A1111_PAIR.findall(lines[-1])}
        lines = lines[:-1]
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    for line in lines:
        if line.startswith("Negative prompt:") and not negative_lines:
            negative_lines.append(line.removeprefix("Negative prompt:").strip())
        elif negative_lines:
            negative_lines.append(line)
        else:
            prompt_lines.append(line)
    prompt = "\n".join(prompt_lines).strip()
    if not prompt and not settings:
        return None
    recipe = Recipe(
        prompt=prompt,
        negative_prompt="\n".join(negative_lines).strip(),
        source="a1111",
        seed=_seed(settings.get("Seed")),
        model=settings.get("Model", "")[:200],
    )
    size = _SIZE.match(settings.get("Size", ""))
    if size:
        recipe.width, recipe.height = _dimension(int(size[1])), _dimension(int(size[2]))
    try:
        cfg = float(settings.get("CFG scale", ""))
        if math.isfinite(cfg):
            recipe.params["guidance"] = cfg
    except ValueError:
        pass
    if settings.get("Sampler"):
        recipe.params["scheduler"] = settings["Sampler"][:100]
    recipe.endpoint = catalog_slug(recipe.model)
    return recipe


# InvokeAI's scheduler names, as the studio's (Pony's) scheduler choices.
INVOKEAI_SCHEDULERS = {
    "ddim": "DDIM",
    "ddpm": "DDPM",
    "deis": "DEIS",
    "lms": "LMS",
    "lms_k": "LMS Karras",
    "pndm": "PNDM",
    "heun": "Heun",
    "euler": "Euler",
    "euler_a": "Euler a",
    "kdpm_2": "DPM2",
    "kdpm_2_a": "DPM2 a",
    "dpmpp_2s": "DPM++ SDE",
    "dpmpp_sde": "DPM++ SDE",
    "dpmpp_sde_k": "DPM++ SDE Karras",
    "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_k": "DPM++ 2M Karras",
    "dpmpp_2m_sde_k": "DPM++ 2M SDE Karras",
    "unipc": "UniPC",
}


def parse_invokeai(text: str) -> Recipe | None:
    """InvokeAI's ``invokeai_metadata`` JSON."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    prompt = data.get("positive_prompt")
    negative = data.get("negative_prompt")
    model = data.get("model")
    name, base = "", ""
    if isinstance(model, dict):
        for key in ("name", "model_name"):
            if isinstance(model.get(key), str):
                name = model[key]
                break
        for key in ("base", "base_model"):
            if isinstance(model.get(key), str):
                base = model[key]
                break
    elif isinstance(model, str):
        name = model
    recipe = Recipe(
        prompt=prompt if isinstance(prompt, str) else "",
        negative_prompt=negative if isinstance(negative, str) else "",
        seed=_seed(data.get("seed")),
        source="invokeai",
        model=(f"{name} ({base})" if name and base else name or base)[:200],
        width=_dimension(data.get("width")),
        height=_dimension(data.get("height")),
    )
    cfg = data.get("cfg_scale")
    if isinstance(cfg, (int, float)) and not isinstance(cfg, bool) and math.isfinite(cfg):
        recipe.params["guidance"] = float(cfg)
    scheduler = data.get("scheduler")
    if isinstance(scheduler, str) and scheduler in INVOKEAI_SCHEDULERS:
        recipe.params["scheduler"] = INVOKEAI_SCHEDULERS[scheduler]
    if not recipe.prompt and recipe.seed is None:
        return None
    recipe.endpoint = catalog_slug(name)
    return recipe


def catalog_slug(model: str) -> str:
    """``model`` when it is a creatable catalog endpoint's slug, else ""."""
    if not model or "/" not in model:
        return ""
    try:
        spec = get_endpoint(model.strip())
    except UnknownEndpoint:
        return ""
    if spec.method != "POST" or not (spec.is_model or spec.is_utility):
        return ""
    return spec.slug


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
