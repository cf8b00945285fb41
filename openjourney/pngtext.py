"""PNG text chunks, and the generation parameters other tools write into them.

Plain Python (no Django, no Pillow), shared by the studio's gallery (gallery/recipes.py:
the recipe it writes into every stored PNG and reads back on recall) and the engine
(utils/prompt-extract reads an embedded prompt).

- The chunk codec works on the file's bytes: walk the chunks, read the ``tEXt``, ``zTXt``
  and ``iTXt`` ones (compressed text is never inflated past ``MAX_TEXT_BYTES``: a zip bomb
  stays small), write new ones, and splice text chunks in or out before the image data
  without re-encoding it.
- :func:`parse_a1111` reads AUTOMATIC1111's ``parameters`` (prompt, ``Negative prompt:``,
  then a line of ``Key: value`` settings), :func:`parse_invokeai` InvokeAI's
  ``invokeai_metadata`` JSON. Both give :class:`Parameters`, or None for a chunk that says
  nothing usable; malformed input is never raised: a file from anywhere may carry anything.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from openjourney.catalog import SEED_MAX, UnknownEndpoint, get_endpoint

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
# A text chunk larger than this is not a recipe; compressed ones are never inflated past it.
MAX_TEXT_BYTES = 256 * 1024
# The keywords of the chunks that say how an image was made.
A1111_KEY = "parameters"
INVOKEAI_KEY = "invokeai_metadata"
OPENJOURNEY_KEY = "openjourney"  # the studio's own (gallery/recipes.py)


class MalformedPng(ValueError):
    """The bytes are not a PNG whose chunks can be walked."""


# --- reading chunks ------------------------------------------------------------------------


def is_png(content: bytes) -> bool:
    return content[:8] == PNG_SIGNATURE


def walk(content: bytes) -> Iterator[tuple[int, bytes, int, int]]:
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
        for _start, kind, data_start, end in walk(content):
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


# --- writing chunks ------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return len(data).to_bytes(4, "big") + kind + data + crc.to_bytes(4, "big")


def text_chunk(keyword: str, text: str) -> bytes:
    """tEXt when the text is Latin-1 (what A1111 readers look for first), else iTXt."""
    text = text.replace("\0", "")
    try:
        return _chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:
        return itxt_chunk(keyword, text)


def itxt_chunk(keyword: str, text: str) -> bytes:
    """An uncompressed iTXt chunk of UTF-8 text, without language or translated keyword."""
    header = keyword.encode("latin-1") + b"\0" + b"\0\0" + b"\0" + b"\0"
    return _chunk(b"iTXt", header + text.encode("utf-8"))


def _without(content: bytes, keywords: Collection[str]) -> Iterator[tuple[int, bytes, int, int]]:
    """The chunks, less any text chunk with one of ``keywords``."""
    for start, kind, data_start, end in walk(content):
        if kind in TEXT_CHUNKS and _keyword(memoryview(content)[data_start:end]) in keywords:
            continue
        yield start, kind, data_start, end


def strip_text(content: bytes, keywords: Collection[str]) -> bytes:
    """The PNG without its text chunks of those ``keywords``, every other byte as it was.

    Raises MalformedPng when the chunks cannot be walked.
    """
    view = memoryview(content)
    kept = [view[:8]]
    last_end = 8
    for start, _kind, _data_start, end in _without(content, keywords):
        kept.append(view[start:end])
        last_end = end
    kept.append(view[last_end:])  # anything after IEND stays as it was
    return b"".join(kept)


def splice_text(content: bytes, chunks: bytes, replacing: Collection[str]) -> bytes:
    """The PNG with ``chunks`` (made by :func:`text_chunk` / :func:`itxt_chunk`) before its
    first IDAT, and without its earlier text chunks of the keywords in ``replacing``.

    No re-encoding: the image data are byte-for-byte the same. Raises MalformedPng when the
    chunks cannot be walked.
    """
    view = memoryview(content)
    parts: list[bytes | memoryview] = [view[:8]]
    inserted = False
    last_end = 8
    for start, kind, _data_start, end in _without(content, replacing):
        if not inserted and kind in (b"IDAT", b"IEND"):
            parts.append(chunks)
            inserted = True
        parts.append(view[start:end])
        last_end = end
    parts.append(view[last_end:])
    return b"".join(parts)


# --- what other tools write ------------------------------------------------------------------


@dataclass
class Parameters:
    """What an AUTOMATIC1111 or InvokeAI chunk says about how its image was made.

    ``endpoint`` is the catalog slug the model names, when it names one, else "".
    """

    prompt: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    model: str = ""
    endpoint: str = ""
    width: int | None = None
    height: int | None = None
    guidance: float | None = None
    scheduler: str = ""


def parse_seed(value: object) -> int | None:
    """A seed the catalog accepts, from a number or a string of digits; else None."""
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


# A1111's own pattern for the settings line (modules/infotext_utils.py), with keys of at most
# 100 characters and no leading ``\s*`` (findall skips the spaces anyway): as A1111's, it
# took time quadratic in a line without colons, minutes for a chunk of MAX_TEXT_BYTES.
_A1111_PAIR = re.compile(r'(\w[\w \-/]{1,99}):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
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


def parse_a1111(text: str) -> Parameters | None:
    """AUTOMATIC1111's ``parameters``: prompt, ``Negative prompt:``, then ``Key: value``s.

    The last line holds the settings when it has three pairs or more (A1111's own rule) or
    starts as A1111 always starts it, with ``Steps:``.
    """
    lines = text.replace("\r\n", "\n").strip().split("\n")
    settings: dict[str, str] = {}
    pairs = _A1111_PAIR.findall(lines[-1])
    if len(pairs) >= 3 or lines[-1].startswith("Steps:"):
        settings = {key.strip(): _unquote(value) for key, value in pairs}
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
    found = Parameters(
        prompt=prompt,
        negative_prompt="\n".join(negative_lines).strip(),
        seed=parse_seed(settings.get("Seed")),
        model=settings.get("Model", "")[:200],
    )
    size = _SIZE.match(settings.get("Size", ""))
    if size:
        found.width, found.height = _dimension(int(size[1])), _dimension(int(size[2]))
    try:
        cfg = float(settings.get("CFG scale", ""))
        if math.isfinite(cfg):
            found.guidance = cfg
    except ValueError:
        pass
    found.scheduler = settings.get("Sampler", "")[:100]
    found.endpoint = catalog_slug(found.model)
    return found


# InvokeAI's scheduler names, as A1111 names its samplers (and the catalog Pony's schedulers).
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


def _invokeai_model(model: object) -> tuple[str, str]:
    """(name, base) of InvokeAI's ``model``: an object in recent versions, a name before."""
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
    return name, base


def parse_invokeai(text: str) -> Parameters | None:
    """InvokeAI's ``invokeai_metadata`` JSON."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    prompt = data.get("positive_prompt")
    negative = data.get("negative_prompt")
    name, base = _invokeai_model(data.get("model"))
    found = Parameters(
        prompt=prompt if isinstance(prompt, str) else "",
        negative_prompt=negative if isinstance(negative, str) else "",
        seed=parse_seed(data.get("seed")),
        model=(f"{name} ({base})" if name and base else name or base)[:200],
        width=_dimension(data.get("width")),
        height=_dimension(data.get("height")),
    )
    cfg = data.get("cfg_scale")
    if isinstance(cfg, (int, float)) and not isinstance(cfg, bool) and math.isfinite(cfg):
        found.guidance = float(cfg)
    scheduler = data.get("scheduler")
    if isinstance(scheduler, str) and scheduler in INVOKEAI_SCHEDULERS:
        found.scheduler = INVOKEAI_SCHEDULERS[scheduler]
    if not found.prompt and found.seed is None:
        return None
    found.endpoint = catalog_slug(name)
    return found
