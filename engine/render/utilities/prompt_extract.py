"""utils/prompt-extract: the prompt embedded in the file's text chunks, else one described
from the pixels (colours, mood, light, faces, horizon, style hints).
"""

from __future__ import annotations

import contextlib
import json

import cv2
import numpy as np
from PIL import Image

from engine.render.utilities.errors import UtilityError
from engine.render.utilities.faces import _detect_faces
from engine.render.utilities.images import _gray, _resize_max, _split
from openjourney.pngtext import (
    A1111_KEY,
    INVOKEAI_KEY,
    OPENJOURNEY_KEY,
    parse_a1111,
    parse_invokeai,
)


def _text_chunks(image: Image.Image) -> dict[str, str]:
    """Text metadata of an image (PNG tEXt/zTXt/iTXt), lower-cased keys, strings only."""
    chunks: dict[str, str] = {}
    sources: list[object] = [getattr(image, "info", None)]
    # PNG's .text also holds chunks after the image data; reading it may load a broken
    # file, which must not break prompt reading.
    with contextlib.suppress(Exception):
        sources.append(getattr(image, "text", None))
    for source in sources:
        if not isinstance(source, dict):
            continue
        for key, value in source.items():
            if isinstance(key, str) and isinstance(value, (str, bytes)):
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "replace")
                chunks.setdefault(key.casefold(), str(value))
    return chunks


def _clean(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _prompt_from_openjourney(text: str) -> str | None:
    data = json.loads(text)
    if not isinstance(data, dict):
        return None
    found = _clean(data.get("prompt"))
    if found is None and isinstance(data.get("recipe"), dict):
        found = _clean(data["recipe"].get("prompt"))
    return found


def _prompt_from_a1111(text: str) -> str | None:
    found = parse_a1111(text)
    return _clean(found.prompt) if found is not None else None


def _prompt_from_invokeai(text: str) -> str | None:
    found = parse_invokeai(text)
    return _clean(found.prompt) if found is not None else None


def read_embedded_prompt(image: Image.Image) -> str | None:
    """The generation prompt stored in the image's text chunks, or None.

    Looks, in this order, at the studio's ``openjourney`` chunk (JSON with ``"prompt"`` or
    ``{"recipe": {"prompt": ...}}``), AUTOMATIC1111's ``parameters`` and InvokeAI's
    ``invokeai_metadata`` (both read by openjourney/pngtext.py, as the studio's gallery reads
    them). Malformed or empty chunks are skipped, never raised.
    """
    if not isinstance(image, Image.Image):
        raise UtilityError("The image is not an image.")
    chunks = _text_chunks(image)
    readers = (
        (OPENJOURNEY_KEY, _prompt_from_openjourney),
        (A1111_KEY, _prompt_from_a1111),
        (INVOKEAI_KEY, _prompt_from_invokeai),
    )
    for key, reader in readers:
        text = chunks.get(key)
        if text is None:
            continue
        try:
            found = reader(text)
        except (ValueError, TypeError, AttributeError, RecursionError):
            continue  # malformed chunk: try the next source
        if found:
            return found
    return None


# Named colours: several sRGB anchors per name, matched by nearest anchor in CIE Lab.
_PALETTE: tuple[tuple[str, tuple[tuple[int, int, int], ...]], ...] = (
    ("red", ((255, 0, 0), (220, 30, 35), (190, 25, 30))),
    ("maroon", ((128, 0, 0), (110, 25, 35))),
    ("orange", ((255, 140, 0), (240, 110, 40), (255, 165, 80), (220, 90, 30))),
    ("gold", ((212, 175, 55), (230, 190, 60), (190, 150, 40))),
    ("yellow", ((255, 255, 0), (250, 230, 80), (255, 240, 140))),
    ("olive", ((128, 128, 0), (110, 110, 50))),
    ("green", ((0, 128, 0), (0, 255, 0), (60, 170, 70), (30, 90, 40), (120, 200, 90))),
    ("teal", ((0, 128, 128), (40, 150, 140), (20, 100, 110))),
    ("cyan", ((0, 255, 255), (100, 220, 230))),
    (
        "blue",
        (
            (0, 0, 255),
            (30, 90, 220),
            (70, 130, 200),
            (110, 170, 230),
            (40, 60, 180),
            (135, 200, 235),
        ),
    ),
    ("navy", ((0, 0, 128), (20, 30, 80))),
    ("purple", ((128, 0, 128), (110, 50, 160), (150, 90, 200), (80, 30, 110))),
    ("magenta", ((255, 0, 255), (200, 40, 160))),
    ("pink", ((255, 160, 190), (240, 110, 160), (255, 192, 203), (230, 150, 150))),
    ("brown", ((140, 80, 30), (100, 60, 30), (165, 105, 65), (70, 45, 25))),
    ("beige", ((230, 210, 170), (210, 185, 150), (240, 225, 200))),
    ("black", ((0, 0, 0), (25, 25, 28))),
    ("grey", ((128, 128, 128), (90, 90, 92), (170, 170, 170), (60, 60, 62))),
    ("silver", ((200, 200, 205), (215, 215, 220))),
    ("white", ((255, 255, 255), (240, 240, 235))),
)
_WARM = frozenset({"red", "maroon", "orange", "gold", "yellow", "pink", "brown", "beige"})
_COOL = frozenset({"green", "teal", "cyan", "blue", "navy", "purple"})
_NEUTRAL = frozenset({"black", "grey", "silver", "white"})


def _palette_lab() -> tuple[np.ndarray, list[str]]:
    names, anchors = [], []
    for name, rgbs in _PALETTE:
        for colour in rgbs:
            names.append(name)
            anchors.append(colour)
    arr = np.array(anchors, np.float32).reshape(-1, 1, 3) / 255.0
    return cv2.cvtColor(arr, cv2.COLOR_RGB2LAB).reshape(-1, 3), names


_PALETTE_LAB, _PALETTE_NAMES = _palette_lab()


def _colour_shares(lab: np.ndarray) -> dict[str, float]:
    """Share of pixels (an N x 3 array of CIE Lab) nearest to each colour name."""
    dist = ((lab[:, None, :] - _PALETTE_LAB[None, :, :]) ** 2).sum(axis=2)
    nearest = dist.argmin(axis=1)
    shares: dict[str, float] = {}
    counts = np.bincount(nearest, minlength=len(_PALETTE_NAMES)) / max(1, lab.shape[0])
    for idx, share in enumerate(counts):
        if share > 0:
            name = _PALETTE_NAMES[idx]
            shares[name] = shares.get(name, 0.0) + float(share)
    return shares


def _join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _has_horizon(gray: np.ndarray) -> bool:
    """A strong, image-wide horizontal edge in the middle band of the picture."""
    h, w = gray.shape
    if h < 16 or w < 16:
        return False
    g = gray.astype(np.float32)
    gy = np.abs(cv2.Sobel(g, cv2.CV_32F, 0, 1))
    gx = np.abs(cv2.Sobel(g, cv2.CV_32F, 1, 0))
    horizontal = np.maximum(gy - gx, 0)
    rows = cv2.GaussianBlur(horizontal.mean(axis=1).reshape(-1, 1), (1, 5), 0).ravel()
    lo, hi = round(0.15 * h), round(0.85 * h)
    band = rows[lo:hi]
    if band.size == 0:
        return False
    peak = int(band.argmax()) + lo
    if rows[peak] < 8.0 or rows[peak] < 4.0 * float(np.median(rows)) + 1e-6:
        return False
    # The edge must run across most of the width, not be one object's outline.
    strip = gy[max(0, peak - 2) : peak + 3].max(axis=0)
    return float((strip > 20).mean()) >= 0.6


def extract_prompt(image: Image.Image) -> str:
    """Describe an image as a text prompt; an embedded prompt wins if there is one.

    From the pixels: composition (a portrait when Haar finds a face, a landscape when a
    strong image-wide horizontal edge crosses the middle band, a subject on a plain
    background, ...), the dominant colours named from a 20-word palette (with a
    warm/cool hint), brightness and mood (dark, bright, moody, pastel, vivid, muted),
    light (soft / natural / dramatic), style (black and white, flat illustration,
    detailed, minimalist) and the format (square, vertical, wide).
    """
    embedded = read_embedded_prompt(image)
    if embedded:
        return embedded
    rgb, alpha = _split(image)
    h, w = rgb.shape[:2]
    small, _ = _resize_max(rgb, 128)
    pixels = small.reshape(-1, 3)
    if alpha is not None:
        # Colours: only what is visible (cut-outs often hide black under alpha 0).
        visible = _resize_max(alpha, 128)[0].reshape(-1) >= 128
        if visible.any():
            pixels = pixels[visible]
        # Structure (faces, edges, horizon): the picture as shown on white.
        a = alpha.astype(np.float32)[:, :, None] / 255.0
        rgb = np.clip(rgb * a + 255.0 * (1.0 - a) + 0.5, 0, 255).astype(np.uint8)
    mid, _ = _resize_max(rgb, 256)

    lab = cv2.cvtColor(
        pixels.reshape(-1, 1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB
    ).reshape(-1, 3)
    lightness = lab[:, 0]
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    mean_l, std_l = float(lightness.mean()), float(lightness.std())
    mean_c = float(chroma.mean())
    greyscale = float(np.percentile(chroma, 95)) < 8.0

    # Flat art: a handful of colours cover nearly every pixel.
    q = (pixels // 32).astype(np.int32)
    codes = q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2]
    counts = np.sort(np.bincount(codes, minlength=512))[::-1]
    n_main = int(np.searchsorted(np.cumsum(counts), 0.95 * codes.size) + 1)
    flat = n_main <= 6
    # On the picture as shown (a cut-out on white is not a plain field).
    uniform = float(mid.reshape(-1, 3).astype(np.float32).std(axis=0).max()) < 2.0

    parts: list[str] = []
    # Composition.
    faces = _detect_faces(rgb)
    if faces:
        big_face = faces[0][2] * faces[0][3] >= 0.02 * h * w
        if len(faces) >= 3:
            parts.append("a group of people")
        elif len(faces) == 2:
            parts.append("a portrait of two people" if big_face else "two people in a scene")
        else:
            parts.append("a portrait of a person" if big_face else "a person in a scene")
    elif uniform:
        parts.append("a plain colour field")
    elif _has_horizon(_gray(mid)):
        parts.append("a landscape with a horizon line")
    else:
        border = np.concatenate(
            [
                mid[:4].reshape(-1, 3),
                mid[-4:].reshape(-1, 3),
                mid[:, :4].reshape(-1, 3),
                mid[:, -4:].reshape(-1, 3),
            ]
        )
        mh, mw = mid.shape[:2]
        centre = mid[mh // 4 : mh - mh // 4, mw // 4 : mw - mw // 4].reshape(-1, 3)
        border_plain = float(border.astype(np.float32).std(axis=0).mean()) < 12.0
        if (
            centre.size
            and border_plain
            and float(np.abs(centre.astype(np.float32).mean(axis=0) - border.mean(axis=0)).max())
            > 25.0
        ):
            parts.append("a single subject on a plain background")
        else:
            parts.append("an abstract composition" if flat else "a scene")

    # Colours.
    shares = _colour_shares(lab)
    # Neutrals count for less: "orange" says more about a photo than the grey around it.
    scored = {n: s * (0.6 if n in _NEUTRAL else 1.0) for n, s in shares.items()}
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))
    named = [n for n, s in ranked if s >= 0.08][:3] or [n for n, _ in ranked[:2]]
    chromatic = sum(s for n, s in shares.items() if n not in _NEUTRAL)
    warm = sum(s for n, s in shares.items() if n in _WARM)
    cool = sum(s for n, s in shares.items() if n in _COOL)
    temperature = ""
    if chromatic >= 0.2 and not greyscale and named[0] not in _NEUTRAL:
        if warm >= 0.65 * chromatic:
            temperature = "warm "
        elif cool >= 0.65 * chromatic:
            temperature = "cool "
    parts.append(f"{temperature}{_join_words(named)} tones")

    # Brightness and mood.
    if mean_l < 30:
        parts.append("dark and moody" if std_l > 15 else "dark")
    elif mean_l > 72:
        # Pastel: the coloured pixels themselves are light and soft, not just the image.
        tinted = chroma > 10
        pastel = (
            float(tinted.mean()) > 0.3
            and float(np.median(lightness[tinted])) > 70
            and float(np.median(chroma[tinted])) < 40
        )
        parts.append("pastel" if pastel else "bright")
    elif std_l > 25 and mean_c < 20:
        parts.append("moody")
    if mean_c > 45:
        parts.append("vivid colours")
    elif 2 < mean_c < 8 and not greyscale:
        parts.append("muted colours")

    # Light, style and medium.
    if not flat:
        if std_l < 12:
            parts.append("soft light")
        elif std_l > 28:
            parts.append("dramatic lighting")
        else:
            parts.append("natural light")
    edges = cv2.Canny(_gray(mid), 100, 200) if min(mid.shape[:2]) >= 3 else np.zeros(1)
    density = float((edges > 0).mean())
    if density > 0.10:
        parts.append("detailed")
    elif density < 0.015 and not flat:
        parts.append("minimalist")
    if greyscale:
        parts.append("black and white")
    parts.append("flat illustration" if flat else "photograph")

    ratio = w / h
    parts.append(
        "square format"
        if 0.9 <= ratio <= 1.1
        else ("wide format" if ratio > 1.1 else "vertical format")
    )
    return ", ".join(parts)
