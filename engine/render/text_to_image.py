"""Deterministic procedural text-to-image renderer for the local engine.

No model weights: an image is composed from layers (sky gradient, clouds, sun or moon,
mountain ridges, water with reflections, skyline, trees, a central figure, or a
domain-warped abstract field) chosen from the prompt, then graded by mood, guidance and
scheduler, given the endpoint's own look (cinema letterbox, black-light neon, pony cel
shading ...) or the Re-Craft style, and finished at full size.

All randomness comes from ``numpy.random.Generator(PCG64)`` seeded by a BLAKE2b digest of
(endpoint, seed, model, prompt content) with one named sub-stream per layer, so the same
request gives byte-identical PNGs and removing one layer does not reshuffle the others.

Speed: composition happens on a work canvas of about 512x512 pixels (channel-first float32,
updated in place because chained temporaries of that size are slow to allocate), the result
is upscaled with OpenCV's bicubic resize and then gets cheap full-size detail (unsharp mask,
crisp star sprites, a tiled film grain).

Timings: render_image + encode_png, time.perf_counter, best / median of 5 runs, pinned to
one core (``taskset -c 1``) of a 2-core container that other jobs shared (load ~1.9), prompt
"mountains at sunset over a lake":

    flux/dev            1024x1024    86 /  87 ms   (render alone ~36 ms, the rest is PNG)
    flux/dev             768x1344    90 /  94 ms
    flux/dev            1344x768     86 /  96 ms
    flux/dev            1536x640     85 /  91 ms
    flux/1.1/pro-ultra  2048x2048   275 / 279 ms   (render alone ~58 ms)
    flux/1.1/pro-ultra  1536x2688   265 / 268 ms
    flux/1.1/pro-ultra  2688x1536   271 / 276 ms
    flux/1.1/pro-ultra  3072x1280   263 / 267 ms
    flux/dev             512x512     34 /  35 ms
    all 29 endpoints and 26 Re-Craft styles at 1024x1024: median 71 ms, slowest 111-128 ms
    (hdr, hard_flash, engraving_color, psychedelic: busy detail costs PNG time), fastest
    27 ms (pixel_art, emoji).

Runs vary by ~20-30% with the neighbours' load (2048x2048 measured from 222 ms, flux/dev
on a quiet core, to 357 ms, pro-ultra under load). The re-craft/svg renderer
(engine.render.svg) takes 0.3-10 ms per document (engraving up to ~50 ms).
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from engine.render.prompt import (
    COLOUR_MODIFIERS,
    COLOUR_WORDS,
    MOOD_WORDS,
    PromptTraits,
    analyse_prompt,
)
from openjourney.catalog import PONY_SCHEDULERS, Output, model_endpoints
from openjourney.catalog import RECRAFT_STYLES as CATALOG_RECRAFT_STYLES

__all__ = [
    "ENDPOINTS",
    "RECRAFT_STYLES",
    "SCHEDULERS",
    "encode_png",
    "render_image",
]

# The catalog is the one place the API's names are spelled (plain Python, no Django).
ENDPOINTS: tuple[str, ...] = tuple(e.slug for e in model_endpoints() if e.output is Output.PNG)
SCHEDULERS: tuple[str, ...] = PONY_SCHEDULERS
RECRAFT_STYLES: tuple[str, ...] = CATALOG_RECRAFT_STYLES

# Default `model` per endpoint, so an omitted model and the explicit default render alike.
_DEFAULT_MODELS = {
    "re-craft/generative": "v3",
    "sdxl/generative": "v1",
    "sdxl/pony": "pony",
}

# Work canvas area: composition cost is proportional to it, not to the output size.
_WORK_AREA = 512 * 512
F32 = np.float32


# --------------------------------------------------------------------------- randomness


def _digest(*parts: object) -> bytes:
    """Stable digest of the parts (str() of each; never Python's salted hash())."""
    h = hashlib.blake2b(digest_size=32, person=b"ojs-render")
    for part in parts:
        h.update(str(part).encode("utf-8"))
        h.update(b"\x1f")
    return h.digest()


def _rng(*parts: object) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(int.from_bytes(_digest(*parts), "little")))


# --------------------------------------------------------------------------- noise


def _noise(rng: np.random.Generator, h: int, w: int, cy: int, cx: int) -> np.ndarray:
    """Value noise: a random lattice upscaled bicubically by OpenCV (fast at any size)."""
    lattice = rng.random((cy + 1, cx + 1), dtype=F32)
    return cv2.resize(lattice, (w, h), interpolation=cv2.INTER_CUBIC)


def _fbm(
    rng: np.random.Generator,
    h: int,
    w: int,
    cells: float,
    octaves: int,
    gain: float = 0.5,
    stretch: float = 1.0,
    ridged: bool = False,
) -> np.ndarray:
    """Fractal value noise, mean ~0.5, std ~0.2; ``stretch`` > 1 elongates it horizontally.

    Coarse octaves are summed on smaller canvases (a cell needs only ~8 pixels to stay
    smooth) and upsampled once per level, so most of the cost is the finest octaves.
    """
    plan: list[tuple[int, int, int, float]] = []  # (level divisor, cy, cx, amplitude)
    amp, norm, c = 1.0, 0.0, cells
    for _ in range(max(1, octaves)):
        cy = max(1, round(c))
        cx = max(1, round(c * w / h / stretch))
        if cy > h / 2 or cx > w / 2:
            if norm:
                break
            cy, cx = max(1, min(cy, h // 2)), max(1, min(cx, w // 2))  # tiny canvases
        d = 1
        while not ridged and d < 16 and h / (2 * d) >= 8 * cy and w / (2 * d) >= 8 * cx:
            d *= 2
        plan.append((d, cy, cx, amp))
        norm += amp * amp
        amp *= gain
        c *= 2.03  # not exactly 2, so lattice lines of octaves do not line up
    acc: np.ndarray | None = None
    level = 0
    for d, cy, cx, a in plan:  # levels only get finer along the octaves
        lh, lw = max(2, round(h / d)), max(2, round(w / d))
        if acc is None:
            acc = np.zeros((lh, lw), F32)
        elif d != level:
            acc = cv2.resize(acc, (lw, lh), interpolation=cv2.INTER_CUBIC)
        level = d
        n = _noise(rng, lh, lw, cy, cx)
        if ridged:
            n = 1.0 - np.abs(n * 2.0 - 1.0)
        n -= 0.5
        n *= a
        acc += n
    assert acc is not None
    if acc.shape != (h, w):
        acc = cv2.resize(acc, (w, h), interpolation=cv2.INTER_CUBIC)
    acc *= 1.0 / math.sqrt(norm)
    acc += 0.5
    return acc


def _fbm1d(
    rng: np.random.Generator, w: int, cells: float, octaves: int, gain: float = 0.5
) -> np.ndarray:
    """1-D fractal noise as a (1, w) row, normalised to 0..1."""
    out = np.zeros((1, w), F32)
    amp, c = 1.0, cells
    for _ in range(octaves):
        cx = max(1, round(c))
        if cx > w / 2:
            break
        lattice = rng.random((1, cx + 1), dtype=F32)
        out += amp * cv2.resize(lattice, (w, 1), interpolation=cv2.INTER_CUBIC)
        amp *= gain
        c *= 2.1
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)


def _smooth(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    """Smoothstep, computed in place on one temporary."""
    t = np.subtract(x, F32(e0))
    t *= F32(1.0 / (e1 - e0))
    np.clip(t, 0.0, 1.0, out=t)
    u = t * F32(-2.0)
    u += F32(3.0)
    u *= t
    u *= t
    return u


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a 2-D plane; large sigmas go through a smaller image (cheap)."""
    if sigma <= 0.3:
        return a.copy()
    if sigma <= 4:
        return cv2.GaussianBlur(a, (0, 0), sigma)
    h, w = a.shape
    f = sigma / 2.0
    sw, sh = max(2, round(w / f)), max(2, round(h / f))
    small = cv2.resize(a, (sw, sh), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 2.0)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _blur3(img: np.ndarray, sigma: float) -> np.ndarray:
    return np.stack([_blur(img[c], sigma) for c in range(3)])


def _luma(img: np.ndarray) -> np.ndarray:
    return img[0] * F32(0.299) + img[1] * F32(0.587) + img[2] * F32(0.114)


# --------------------------------------------------------------------------- colours

Colour = np.ndarray  # float32, shape (3,), 0..1


def _c(rgb: tuple[float, float, float] | str) -> Colour:
    if isinstance(rgb, str):
        rgb = tuple(int(rgb[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[assignment]
    return np.array(rgb, F32)


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return (a + (b - a) * F32(t)).astype(F32)


def _lighten(c: Colour, t: float) -> Colour:
    return _mix(c, np.ones(3, F32), t)


def _darken(c: Colour, t: float) -> Colour:
    return (c * F32(1 - t)).astype(F32)


def _hsv(c: Colour) -> tuple[float, float, float]:
    return colorsys.rgb_to_hsv(*(float(v) for v in np.clip(c, 0, 1)))


def _from_hsv(h: float, s: float, v: float) -> Colour:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0), 1), min(max(v, 0), 1)), F32)


def _hue_shift(c: Colour, dh: float, ds: float = 1.0, dv: float = 1.0) -> Colour:
    h, s, v = _hsv(c)
    return _from_hsv(h + dh, s * ds, v * dv)


def _col3(c: Colour) -> np.ndarray:
    return c.reshape(3, 1, 1)


_ROLES = (
    "sky_top",
    "sky_mid",
    "horizon",
    "light",
    "haze",
    "land_far",
    "land_near",
    "water",
    "accent",
    "accent2",
)

# Lighting palettes (sRGB 0..1), one per scene word; the prompt's colours are mixed in later.
_BASE_PALETTES: dict[str, dict[str, str]] = {
    "day": dict(
        sky_top="#1f4f9e",
        sky_mid="#4f8fd6",
        horizon="#c9dcef",
        light="#fff6e0",
        haze="#b9c9dc",
        land_far="#6f86a6",
        land_near="#243a2c",
        water="#1d4f74",
        accent="#f2c46b",
        accent2="#e8f0f7",
    ),
    "sunset": dict(
        sky_top="#2a1f5c",
        sky_mid="#b84d6b",
        horizon="#ffa24d",
        light="#ffe3a0",
        haze="#d98a7a",
        land_far="#6b3f66",
        land_near="#1c1022",
        water="#4a2a4e",
        accent="#ff6a3d",
        accent2="#ffd36b",
    ),
    "dawn": dict(
        sky_top="#3b5a9e",
        sky_mid="#c7a0c0",
        horizon="#ffd0a8",
        light="#fff0d8",
        haze="#e6c2c4",
        land_far="#8a7fa6",
        land_near="#2d2c45",
        water="#566a9a",
        accent="#ff9f8a",
        accent2="#fde6b4",
    ),
    "night": dict(
        sky_top="#03050f",
        sky_mid="#0a1430",
        horizon="#23305a",
        light="#eef2ff",
        haze="#2c3a66",
        land_far="#131b36",
        land_near="#04060d",
        water="#0b1430",
        accent="#7f9cf5",
        accent2="#c9b8ff",
    ),
    "space": dict(
        sky_top="#010106",
        sky_mid="#0d0520",
        horizon="#3a1552",
        light="#fff3e6",
        haze="#5a2a7a",
        land_far="#1a1030",
        land_near="#050309",
        water="#120a2a",
        accent="#3f7dff",
        accent2="#ff4fb0",
    ),
    "autumn": dict(
        sky_top="#3f6296",
        sky_mid="#8fb0d0",
        horizon="#f3d2a0",
        light="#fff0c8",
        haze="#d8b48c",
        land_far="#9a6a4a",
        land_near="#4a1f10",
        water="#3c5a6e",
        accent="#e0641c",
        accent2="#c8321e",
    ),
    "winter": dict(
        sky_top="#5c7fae",
        sky_mid="#a9c2de",
        horizon="#eef3f8",
        light="#ffffff",
        haze="#dde6ef",
        land_far="#9fb2c8",
        land_near="#4a5b70",
        water="#6f8fae",
        accent="#bcd6f2",
        accent2="#ffffff",
    ),
    "spring": dict(
        sky_top="#5a94d6",
        sky_mid="#a6cff0",
        horizon="#f4e8f0",
        light="#fffaf0",
        haze="#dfe8ee",
        land_far="#8fb49a",
        land_near="#2f6a3a",
        water="#4f8fb0",
        accent="#f7a6c8",
        accent2="#fff2a8",
    ),
    "storm": dict(
        sky_top="#1b2230",
        sky_mid="#3a4656",
        horizon="#7d8a96",
        light="#d8e0e8",
        haze="#66727e",
        land_far="#3f4a56",
        land_near="#141a20",
        water="#24323c",
        accent="#8fa6b8",
        accent2="#c9d4dc",
    ),
    "mist": dict(
        sky_top="#6f7884",
        sky_mid="#9aa3ad",
        horizon="#c9ced3",
        light="#f2f0ea",
        haze="#c0c6cc",
        land_far="#8d96a0",
        land_near="#3a4148",
        water="#6d7882",
        accent="#b8a89a",
        accent2="#dfe3e6",
    ),
    "fire": dict(
        sky_top="#120404",
        sky_mid="#5e1206",
        horizon="#ff5a14",
        light="#ffe08a",
        haze="#a8300e",
        land_far="#3a0c06",
        land_near="#0c0303",
        water="#3a0e08",
        accent="#ff8a1e",
        accent2="#ffd23c",
    ),
    "neon": dict(
        sky_top="#0a0220",
        sky_mid="#3a0a5e",
        horizon="#ff2f8e",
        light="#7ff8ff",
        haze="#8a1e8a",
        land_far="#240a46",
        land_near="#07020f",
        water="#1a0836",
        accent="#00e5ff",
        accent2="#ff3cf0",
    ),
    "forest": dict(
        sky_top="#4d7fa8",
        sky_mid="#9cc3cf",
        horizon="#e4eedc",
        light="#fff4c8",
        haze="#b8cfb4",
        land_far="#5f8a66",
        land_near="#0f2a16",
        water="#2f5a52",
        accent="#c8d86a",
        accent2="#f0e6a0",
    ),
    "ocean": dict(
        sky_top="#1c5a9a",
        sky_mid="#5fa4d8",
        horizon="#d6ecf2",
        light="#fffbe8",
        haze="#bcdbe6",
        land_far="#5b8aa0",
        land_near="#1a3a4a",
        water="#0f5a78",
        accent="#3fd0c8",
        accent2="#f4e2b0",
    ),
    "desert": dict(
        sky_top="#3d6fb0",
        sky_mid="#8fb8dc",
        horizon="#f6dcb4",
        light="#fff3d6",
        haze="#ecd0a8",
        land_far="#c98e5a",
        land_near="#7a3e1c",
        water="#3a7a8e",
        accent="#e8a050",
        accent2="#f8e0a8",
    ),
}

# Palettes for prompts with no recognised subject: dark -> light stops of an abstract field.
_ABSTRACT_PALETTES: tuple[tuple[str, ...], ...] = (
    ("#0b0d21", "#2a2d6e", "#7b3fa0", "#e0607e", "#ffb38a", "#fff1d6"),
    ("#06141b", "#11324d", "#1f6f8b", "#99c1b9", "#f2e3bc", "#fffaf0"),
    ("#1a0a0a", "#5c1a1b", "#b33f2b", "#e8893b", "#f6d28b", "#fff8e7"),
    ("#0a1a12", "#164a3a", "#2e8b6e", "#8fd19e", "#e6f5c9", "#fdfff5"),
    ("#120d1f", "#3b2a5a", "#6f5aa8", "#b6a6e9", "#f0d9ff", "#fff7fd"),
    ("#0d0d0d", "#2b2b2b", "#5e5048", "#b08d6e", "#e8d5c0", "#faf5ef"),
    ("#031926", "#468189", "#77aca2", "#9dbebb", "#f4e9cd", "#fffdf6"),
    ("#240046", "#5a189a", "#9d4edd", "#ff6d00", "#ffb703", "#fff3c4"),
    ("#1b1b3a", "#693668", "#a74482", "#f84aa7", "#ff3562", "#ffd6e5"),
    ("#0f1c2e", "#1f4068", "#1b7fa6", "#f1a208", "#f2e8cf", "#ffffff"),
    ("#10002b", "#3c096c", "#7b2cbf", "#c77dff", "#e0aaff", "#f8edff"),
    ("#132a13", "#31572c", "#4f772d", "#90a955", "#ecf39e", "#fbfde8"),
)


@dataclass
class _Palette:
    sky_top: Colour
    sky_mid: Colour
    horizon: Colour
    light: Colour
    haze: Colour
    land_far: Colour
    land_near: Colour
    water: Colour
    accent: Colour
    accent2: Colour
    stops: tuple[Colour, ...] = ()


def _is_neutral(c: Colour) -> bool:
    return _hsv(c)[1] < 0.18 or _hsv(c)[2] < 0.12


def _build_palette(
    traits: PromptTraits, rng: np.random.Generator, scene: str | None, weight: float
) -> tuple[_Palette, str]:
    """Lighting palette for the scene, jittered by the seed, then pulled to the prompt colours."""
    if scene is None:
        scene = str(rng.choice(["day", "sunset", "dawn", "day", "sunset", "mist", "autumn"]))
    base = {role: _c(hexcode) for role, hexcode in _BASE_PALETTES[scene].items()}
    # Seed jitter: hue drift and a lighting variant keep different seeds visibly apart.
    dh = float(rng.uniform(-0.06, 0.06))
    dv = float(rng.uniform(0.85, 1.12))
    ds = float(rng.uniform(0.8, 1.2))
    for role in _ROLES:
        base[role] = _hue_shift(base[role], dh, ds, dv)
    stops_hex = _ABSTRACT_PALETTES[int(rng.integers(len(_ABSTRACT_PALETTES)))]
    stops = [_hue_shift(_c(h), dh * 0.5) for h in stops_hex]

    cols = [_c(tuple(v / 255 for v in rgb)) for _, rgb in traits.colours[:4]]
    if cols and any(not _is_neutral(c) for c in cols):
        c0 = cols[0]
        c1 = cols[1] if len(cols) > 1 else _hue_shift(c0, 0.07, 0.85, 1.1)
        c2 = cols[2] if len(cols) > 2 else _lighten(_mix(c0, c1, 0.5), 0.35)
        target = dict(
            sky_top=_darken(c0, 0.5),
            sky_mid=c0,
            horizon=_lighten(c1, 0.3),
            light=_lighten(c2, 0.6),
            haze=_lighten(_mix(c0, c1, 0.5), 0.45),
            land_far=_darken(_mix(c0, c1, 0.5), 0.35),
            land_near=_darken(c0, 0.78),
            water=_darken(_mix(c0, c1, 0.3), 0.4),
            accent=c1,
            accent2=c2,
        )
        for role in _ROLES:
            base[role] = _mix(base[role], target[role], weight)
        # Abstract stops: dark of the first colour up to a light tint of the last.
        targets = [_darken(c0, 0.8), _darken(c0, 0.4), c0, c1, _lighten(c2, 0.3), _lighten(c2, 0.8)]
        stops = [_mix(s, t, weight) for s, t in zip(stops, targets, strict=True)]
    elif cols:
        # Only neutral words (black, white, grey ...): they set lightness, keep the hues.
        mean_v = float(np.mean([_hsv(c)[2] for c in cols]))
        for role in _ROLES:
            h, s, v = _hsv(base[role])
            nv = v + (mean_v - v) * weight * 0.75
            base[role] = _from_hsv(h, s * (1 - 0.6 * weight), nv)
        stops = [_hue_shift(s, 0, 1 - 0.6 * weight) for s in stops]
        stops = [_mix(s, np.full(3, mean_v, F32), weight * 0.5) for s in stops]
    return _Palette(**base, stops=tuple(stops)), scene


# --------------------------------------------------------------------------- looks


@dataclass(frozen=True)
class _Look:
    """Per-endpoint (or per-style) rendering character."""

    saturation: float = 1.0
    contrast: float = 1.0
    brightness: float = 1.0
    warmth: float = 0.0  # + warm, - cool white balance
    detail: int = 0  # extra (or fewer) noise octaves
    soften: float = 0.0  # blur sigma at work resolution, in 1/512ths of the short side
    sharpen: float = 0.0  # unsharp-mask amount at full size
    grain: float = 0.0  # film grain standard deviation, 0..255 units
    vignette: float = 0.0
    coarse: float = 1.0  # > 1 renders on a smaller work canvas (softer, older models)
    effects: tuple[str, ...] = ()
    upscale: int = cv2.INTER_CUBIC
    texture: float = 0.02  # fine detail noise on surfaces


_LOOKS: dict[str, _Look] = {
    "flux/1.1/pro-ultra": _Look(
        saturation=1.08,
        contrast=1.08,
        detail=2,
        sharpen=0.7,
        grain=2.0,
        vignette=0.12,
        effects=("clarity",),
        texture=0.03,
    ),
    "flux/1.1/pro": _Look(
        saturation=1.06, contrast=1.05, detail=1, sharpen=0.5, grain=1.5, effects=("clarity",)
    ),
    "flux/pro": _Look(
        saturation=1.04, contrast=1.04, detail=1, sharpen=0.4, grain=1.5, warmth=0.03
    ),
    "flux/fill-pro": _Look(contrast=0.98, detail=1, sharpen=0.3, effects=("fill",)),
    "flux/depth-pro": _Look(detail=1, sharpen=0.35, effects=("depth",)),
    "flux/canny-pro": _Look(contrast=1.04, detail=1, sharpen=0.3, effects=("edges",)),
    "flux/dev": _Look(saturation=1.02, contrast=1.02, sharpen=0.25, grain=1.5),
    "flux/dev-lora": _Look(saturation=1.1, sharpen=0.2, vignette=0.2, effects=("lora",)),
    "flux/fill-dev": _Look(contrast=0.96, soften=0.6, effects=("fill",)),
    "flux/depth-dev": _Look(soften=0.4, effects=("depth",)),
    "flux/canny-dev": _Look(soften=0.3, effects=("edges",)),
    "flux/redux-dev": _Look(saturation=1.05, effects=("remix",)),
    "flux/schnell": _Look(
        contrast=1.06,
        detail=-2,
        soften=0.8,
        effects=("steps",),
        upscale=cv2.INTER_LINEAR,
        texture=0.0,
    ),
    "flux/redux-schnell": _Look(detail=-1, soften=0.5, effects=("remix", "steps")),
    "flux/schnell-lora": _Look(detail=-1, soften=0.5, vignette=0.2, effects=("lora", "steps")),
    "flux/cinema": _Look(
        contrast=1.12,
        saturation=0.95,
        grain=4.0,
        vignette=0.35,
        sharpen=0.3,
        effects=("teal_orange", "flare", "letterbox"),
    ),
    "flux/ghibsky": _Look(
        saturation=1.12,
        brightness=1.05,
        contrast=0.94,
        effects=("cumulus", "painterly"),
        texture=0.0,
    ),
    "flux/hyper": _Look(saturation=1.45, contrast=1.28, sharpen=0.6, effects=("hyper",)),
    "flux/formfinder": _Look(contrast=1.05, effects=("geometric",), texture=0.01),
    "flux/black-light": _Look(saturation=1.2, effects=("neon",), texture=0.0),
    "re-craft/generative": _Look(sharpen=0.35, grain=1.0),
    "sdxl/generative": _Look(saturation=1.05, contrast=1.04, sharpen=0.3, grain=1.0),
    "sdxl/pony": _Look(saturation=1.18, brightness=1.04, effects=("cel",), texture=0.0),
    "sdxl/emoji": _Look(),
    "sd/3.5/large-turbo": _Look(contrast=1.1, saturation=1.1, soften=0.4, effects=("steps",)),
    "sd/3.5/large": _Look(saturation=1.04, detail=1, sharpen=0.4, grain=1.0),
    "sd/3.5/medium": _Look(sharpen=0.15, soften=0.3, warmth=-0.02),
    "sd/3/generative": _Look(saturation=0.97, warmth=-0.03, grain=1.5, effects=("sd3",)),
    "sd/1/generative": _Look(
        saturation=0.9,
        contrast=0.93,
        detail=-2,
        soften=0.8,
        coarse=1.7,
        effects=("old",),
        upscale=cv2.INTER_LINEAR,
        texture=0.01,
    ),
}

_MODEL_LOOKS: dict[tuple[str, str], dict[str, object]] = {
    ("re-craft/generative", "v2"): dict(detail=-1, saturation=0.95, sharpen=0.2),
    ("sdxl/generative", "lightning"): dict(contrast=1.12, soften=0.5, effects=("steps",)),
    ("sdxl/pony", "ponyai v6"): dict(saturation=1.3, contrast=1.08),
    ("sdxl/pony", "wai anime sfw"): dict(saturation=1.0, brightness=1.12, contrast=0.9),
}


@dataclass(frozen=True)
class _Sched:
    """How a diffusion scheduler name nudges noise character (deterministically)."""

    octaves: int = 0
    gain: float = 0.5
    smooth: float = 0.0
    contrast: float = 1.0
    grain: float = 0.0
    detail: float = 0.0
    phase: int = 0


def _scheduler(name: str | None) -> _Sched:
    if not name:
        return _Sched()
    n = name.lower()
    tokens = n.split()
    octaves = 1 if ("heun" in n or "dpm2" in n or "++" in n) else 0
    octaves -= 1 if n in ("ddim", "pndm", "lms") else 0
    return _Sched(
        octaves=octaves,
        gain=0.5 + (0.06 if "karras" in n else 0.0) - (0.05 if "lms" in n else 0.0),
        smooth=0.6 if tokens[0] in ("ddim", "pndm", "lms", "unipc", "deis") else 0.0,
        contrast=1.05 if "karras" in n else 1.0,
        grain=2.5 if "sde" in n or n == "ddpm" else 0.0,
        detail=0.035 if " a" in f" {n} " or n.endswith(" a") or "ancestral" in n else 0.012,
        phase=int.from_bytes(_digest("scheduler", name)[:4], "little"),
    )


def _resolve_look(endpoint: str, params: dict, traits: PromptTraits) -> _Look:
    look = _LOOKS.get(endpoint, _LOOKS["flux/dev"])
    model = str(params.get("model") or _DEFAULT_MODELS.get(endpoint, "")).lower()
    extra = _MODEL_LOOKS.get((endpoint, model))
    if extra:
        changes = dict(extra)
        if "effects" in changes:
            changes["effects"] = look.effects + tuple(changes["effects"])  # type: ignore[operator]
        look = replace(look, **changes)  # type: ignore[arg-type]
    if endpoint == "flux/1.1/pro-ultra" and params.get("raw"):
        # Raw mode: less processed, more natural: flatter, less saturated, real film grain.
        look = replace(
            look,
            saturation=0.82,
            contrast=0.9,
            sharpen=0.15,
            grain=7.0,
            vignette=0.05,
            effects=("raw",),
            warmth=0.02,
        )
    return look


# --------------------------------------------------------------------------- scene


class _Scene:
    """The work canvas (channel-first float32) and what the layers know about it."""

    def __init__(
        self,
        h: int,
        w: int,
        key: bytes,
        traits: PromptTraits,
        palette: _Palette,
        look: _Look,
        sched: _Sched,
        guidance: float,
    ) -> None:
        self.h, self.w, self.ar = h, w, w / h
        self.key = key
        self.traits = traits
        self.p = palette
        self.look = look
        self.sched = sched
        self.guidance = guidance
        self.Y = ((np.arange(h, dtype=F32) + 0.5) / h)[:, None]
        self.X = ((np.arange(w, dtype=F32) + 0.5) / w)[None, :]
        self.img = np.zeros((3, h, w), F32)
        self.tmp = np.empty((3, h, w), F32)  # scratch, reused: big temporaries are slow
        self.fld = np.empty((3, h, w), F32)  # per-pixel colour field of the current layer
        self.open_sky = np.ones((h, w), F32)  # where stars may still show
        self.depth = np.ones((h, w), F32)  # 1 far .. 0 near, for depth looks
        self.hz = 0.62
        self.sun: tuple[float, float, float] | None = None  # cx, cy, radius (height units)
        self.stars: tuple[np.ndarray, ...] | None = None
        self.clouds: np.ndarray | None = None  # cloud density, so the sun can sit behind it
        self.kind = "landscape"
        self.subjects = set(traits.subjects)
        self.scene: str | None = None
        self.finish = _Finish(grain=look.grain + sched.grain, sharpen=look.sharpen)

    # -- randomness and noise -------------------------------------------------
    def rng(self, name: str) -> np.random.Generator:
        return _rng(self.key, name)

    def fbm(
        self,
        name: str,
        cells: float,
        octaves: int,
        stretch: float = 1.0,
        ridged: bool = False,
        gain: float | None = None,
    ) -> np.ndarray:
        octs = max(1, octaves + self.look.detail + self.sched.octaves)
        g = self.sched.gain if gain is None else gain
        return _fbm(self.rng(name), self.h, self.w, cells, octs, g, stretch, ridged)

    # -- painting ------------------------------------------------------------------
    def paint(self, colour: np.ndarray, mask: np.ndarray) -> None:
        """img = lerp(img, colour, mask); colour is (3,) or a (3,h,w) field."""
        src = _col3(colour) if colour.ndim == 1 else colour
        np.subtract(src, self.img, out=self.tmp)
        self.tmp *= mask
        self.img += self.tmp

    def add(self, colour: Colour, amount: np.ndarray) -> None:
        np.multiply(_col3(colour), amount, out=self.tmp)
        self.img += self.tmp

    def gradient_field(self, c0: Colour, c1: Colour, t: np.ndarray) -> np.ndarray:
        """self.fld = c0 + (c1 - c0) * t, t broadcastable to (h, w)."""
        np.multiply(_col3(c1 - c0), t, out=self.fld)
        self.fld += _col3(c0)
        return self.fld

    def dist(self, cx: float, cy: float) -> np.ndarray:
        """Distance to (cx, cy) in image-height units (cx as a fraction of the width)."""
        dx = (self.X - cx) * F32(self.ar)
        dy = self.Y - cy
        return np.sqrt(dx * dx + dy * dy)

    def aa(self, signed: np.ndarray) -> np.ndarray:
        """Anti-aliased coverage of a signed distance in height units (> 0 inside)."""
        return np.clip(signed * F32(self.h) + 0.5, 0.0, 1.0)

    def under(self, top: np.ndarray) -> np.ndarray:
        """Anti-aliased area below a (1, w) profile, by distance across the edge (no stairs
        on steep slopes, which a purely vertical ramp would give)."""
        slope_px = np.gradient(top[0]).astype(F32)[None, :] * F32(self.h)
        scale = F32(self.h) / np.sqrt(1.0 + slope_px * slope_px)
        return np.clip((self.Y - top) * scale + 0.5, 0.0, 1.0)

    def cover(self, mask: np.ndarray, depth: float) -> None:
        self.open_sky *= 1.0 - mask
        self.depth += (F32(depth) - self.depth) * mask

    def mask_u8(self) -> np.ndarray:
        return np.zeros((self.h, self.w), np.uint8)


@dataclass
class _Finish:
    """Full-size finishing steps chosen while composing."""

    grain: float = 0.0
    sharpen: float = 0.0
    upscale: int = cv2.INTER_CUBIC
    letterbox: float = 0.0
    pixel: int = 0  # block size in output pixels, relative to 1024 on the short side
    voxel: int = 0
    greyscale: bool = False
    scanlines: bool = False
    seamless: bool = False


# --------------------------------------------------------------------------- layers


def _sky(s: _Scene) -> None:
    p, hz = s.p, s.hz
    t = np.clip(s.Y / max(hz, 0.15), 0.0, 1.0)
    upper = _smooth(0.0, 0.6, t)
    lower = _smooth(0.45, 1.0, t)
    # Three-stop vertical gradient, evaluated per row and broadcast over the width.
    rows = _col3(p.sky_top) + _col3(p.sky_mid - p.sky_top) * upper[None]
    rows = rows + (_col3(p.horizon) - rows) * lower[None]
    s.img[:] = rows
    wash = s.fbm("sky-wash", 1.4, 3)
    wash -= 0.5
    wash *= 0.09
    s.img += wash[None]
    # Warm band just above the horizon (scattered light).
    band = np.exp(-np.abs(s.Y - hz) * F32(9.0)) * F32(0.22)
    s.add(p.horizon * 0.6 + p.light * 0.4 - 0.35, band * np.ones((1, s.w), F32))


def _sun(s: _Scene, moon: bool = False) -> None:
    p = s.p
    rng = s.rng("moon" if moon else "sun")
    scene = s.scene
    cx = float(rng.uniform(0.25, 0.75))
    low = scene in ("sunset", "dawn", "fire") or "sunset" in s.traits.words
    if moon:
        cy = float(rng.uniform(0.14, 0.32)) * s.hz / 0.62
        r = float(rng.uniform(0.05, 0.075))
    elif low:
        lift = 0.14 if s.subjects & {"mountain", "city", "forest", "desert"} else 0.0
        cy = s.hz - float(rng.uniform(0.05, 0.13)) - lift
        r = float(rng.uniform(0.06, 0.1))
    else:
        cy = float(rng.uniform(0.12, 0.3)) * s.hz / 0.62
        r = float(rng.uniform(0.045, 0.07))
    s.sun = (cx, cy, r)
    d = s.dist(cx, cy)
    glow_col = _mix(p.light, p.accent2 if moon else p.horizon, 0.35)
    glow = np.exp(d * F32(-1.0 / (r * 1.6))) * F32(0.55) + np.exp(d * F32(-1.0 / (r * 7))) * F32(
        0.28 if not moon else 0.16
    )
    veil = 1.0 if s.clouds is None else 1.0 - s.clouds * F32(0.6)
    glow *= s.open_sky * veil
    s.add(glow_col, glow)
    disc = s.aa(F32(r) - d) * veil
    if moon:
        craters = s.fbm("moon-craters", 9, 4)
        body = _mix(p.light, _c((0.82, 0.84, 0.9)), 0.5)
        shade = 0.78 + (craters - 0.5) * 0.6
        field_ = s.gradient_field(body * 0.55, body, np.clip(shade, 0, 1.2))
        # Crescent or gibbous: an offset disc shades part of the moon.
        off = float(rng.uniform(0.7, 1.5)) * r * (1 if rng.random() < 0.5 else -1)
        shadow = s.aa(F32(r * 1.02) - s.dist(cx + off / s.ar, cy - r * 0.15))
        earthshine = _mix(p.sky_mid, body, 0.25)
        np.subtract(_col3(earthshine), field_, out=s.tmp)
        s.tmp *= shadow * F32(0.85)
        field_ += s.tmp
        s.paint(field_, disc)
    else:
        sun_col = _lighten(_mix(p.light, p.horizon, 0.25 if low else 0.05), 0.25)
        rim = np.clip(d / F32(r), 0, 1) ** 4
        s.gradient_field(sun_col, _mix(sun_col, p.accent2, 0.5), rim)
        s.paint(s.fld, disc)
    s.open_sky *= 1.0 - disc


def _stars(s: _Scene, density: float = 1.0) -> None:
    rng = s.rng("stars")
    n = int(380 * density * s.ar)
    xs = rng.random(n)
    ys = rng.random(n) ** 1.3 * (s.hz + 0.05 if s.kind != "space" else 1.0)
    mag = rng.random(n) ** 5
    tint = rng.random(n)
    s.stars = (xs, ys, mag, tint)


def _nebula(s: _Scene) -> None:
    p = s.p
    band_angle = float(s.rng("nebula-angle").uniform(-0.6, 0.6))
    u = (s.X - 0.5) * F32(s.ar) * F32(math.sin(band_angle)) + (s.Y - 0.5) * F32(
        math.cos(band_angle)
    )
    band = np.exp(-(u * u) * F32(14.0))
    gas = s.fbm("nebula", 2.2, 6)
    dust = s.fbm("nebula-dust", 4.0, 5)
    dens = _smooth(0.35, 0.85, gas) * band
    s.add(p.accent, dens * 0.55)
    s.add(p.accent2, _smooth(0.5, 0.9, dust) * band * 0.35)
    s.img *= (1.0 - _smooth(0.55, 0.8, dust) * band * 0.5)[None]


def _clouds(s: _Scene, amount: float, cumulus: bool = False) -> None:
    p, hz = s.p, s.hz
    if cumulus:
        n = s.fbm("clouds", 1.6, 6, stretch=1.4, gain=0.55)
        lo, soft = 0.56 - amount * 0.12, 0.08
    else:
        n = s.fbm("clouds", 2.2, 6, stretch=2.8)
        lo, soft = 0.6 - amount * 0.16, 0.22
    # Normalise, so "clouds" in the prompt means clouds whatever the coarse octaves drew.
    n -= F32(n.mean())
    n *= F32(0.2 / (float(n.std()) + 1e-6))
    n += F32(0.5)
    env = _smooth(0.0, 0.2, s.Y) * (1.0 - _smooth(hz - 0.2, hz, s.Y))
    if not cumulus:
        env = env * (0.55 + 0.45 * _smooth(0.1, 0.5, s.Y))
    dens = _smooth(lo, lo + soft, n) * env
    # Self-shadowing: compare with the density a little toward the light (above).
    k = max(1, round(s.h * 0.02))
    shifted = np.empty_like(n)
    shifted[k:] = n[:-k]
    shifted[:k] = n[:1]
    shade = np.clip((n - shifted) * F32(-7.0) + 0.55, 0.0, 1.0)
    if cumulus:  # storybook clouds: bright tops, lavender-blue undersides
        lit = _lighten(p.light, 0.55)
        dark = _mix(_lighten(p.sky_mid, 0.35), p.horizon, 0.3)
    elif s.scene == "night":
        lit, dark = _mix(p.sky_mid, p.light, 0.25), _darken(p.sky_top, 0.2)
    else:
        lit = _mix(p.light, p.sky_mid, 0.15 if cumulus else 0.3)
        dark = _mix(_mix(p.sky_top, p.horizon, 0.5), p.accent, 0.15) * (0.9 if cumulus else 0.8)
    if s.sun is not None:
        cx, cy, _r = s.sun
        shade = np.clip(shade + np.exp(-s.dist(cx, cy) * F32(4.0)) * F32(0.45), 0, 1)
    s.gradient_field(dark, lit, shade)
    s.paint(s.fld, dens * F32(0.92))
    s.open_sky *= 1.0 - dens
    s.clouds = dens


def _ridge_profile(s: _Scene, rng: np.random.Generator, smooth: bool) -> np.ndarray:
    cells = float(rng.uniform(2.0, 3.5))
    if smooth:
        return _fbm1d(rng, s.w, cells * 0.8, 3, 0.4)
    base = _fbm1d(rng, s.w, cells, 6 + s.look.detail, 0.5)
    ridged = 1.0 - np.abs(_fbm1d(rng, s.w, cells * 1.3, 5 + s.look.detail, 0.45) * 2 - 1)
    r = base * 0.6 + ridged * 0.4
    return (r - r.min()) / max(float(r.max() - r.min()), 1e-6)


def _mountains(s: _Scene, layers: int, foreground: bool, snowy: bool, desert: bool) -> None:
    p, hz = s.p, s.hz
    rng = s.rng("desert" if desert else "mountains")
    sun_x = s.sun[0] if s.sun else float(rng.uniform(0.2, 0.8))
    rock = s.fbm("rock", 6.0, 5, stretch=1.6)
    far = _mix(p.haze, p.land_far, 0.45)
    near = p.land_near
    if desert:
        far, near = _mix(p.haze, p.accent, 0.35), _mix(p.land_far, p.accent, 0.35)
    for i in range(layers):
        t = i / max(layers - 1, 1)
        prof = _ridge_profile(s, rng, smooth=desert)
        if foreground:
            base = hz + 0.03 + t * 0.22
            height = (0.24 - 0.14 * t) * float(rng.uniform(0.8, 1.15))
        else:
            base = hz + 0.005
            height = (0.24 - 0.15 * t) * float(rng.uniform(0.75, 1.15)) * (0.6 if desert else 1.0)
        top = F32(base) - F32(height) * prof ** F32(1.3 if not desert else 1.0)
        mask = s.under(top)
        below = np.maximum(s.Y - top, 0)
        # Face shading from the crest's slope, smoothed so it reads as facets, not streaks.
        slope = np.gradient(top[0]).astype(F32)[None, :] * F32(s.w / 6.0)
        slope = cv2.GaussianBlur(slope, (0, 0), sigmaX=max(1.0, s.w * 0.006), sigmaY=0.1)
        facing = np.tanh((F32(sun_x) - s.X) * F32(6.0))  # smooth: no seam below the sun
        shade = np.clip(-slope * facing, -1, 1)
        fall = np.exp(below * F32(-18.0 if not desert else -5.0))
        light = 1.0 + shade * fall * F32(0.35 if not desert else 0.5)
        light += (rock - 0.5) * F32(0.18 * (1 - 0.6 * t) if not desert else 0.06)
        col = _mix(far, near, t**0.8)
        np.multiply(_col3(col), light, out=s.fld)
        if desert:
            ripple = np.sin((s.Y * F32(160) + rock * F32(9.0)) * F32(1.0 + t)) * F32(0.04)
            s.fld *= (1.0 + ripple)[None]
        if snowy and not desert:
            # Snow above a snowline (streaked by the rock noise); low foreground hills are
            # simply snow-covered in a winter scene.
            snowline = F32(base - height * 0.45)
            snow = _smooth(0.0, 0.03, snowline - s.Y + (rock - 0.5) * F32(0.16) + below * F32(0.3))
            if foreground and t > 0.5:
                snow = np.maximum(snow, F32(0.9))
            snow_col = _mix(_c((0.95, 0.97, 1.0)), p.light, 0.2)
            np.subtract(_col3(snow_col) * light, s.fld, out=s.tmp)
            s.tmp *= snow * 0.9
            s.fld += s.tmp
        # Valley mist: each ridge fades toward the haze below its crest.
        mist = _smooth(0.0, 0.16 + 0.1 * t, below) * F32(0.55 * (1 - t) + 0.1)
        np.subtract(_col3(p.haze), s.fld, out=s.tmp)
        s.tmp *= mist
        s.fld += s.tmp
        s.paint(s.fld, mask)
        s.cover(mask, 0.9 - 0.5 * t if not foreground else 0.8 - 0.7 * t)


def _ground(s: _Scene, kind: str) -> None:
    p, hz = s.p, s.hz
    below = s.Y - F32(hz)
    mask = s.aa(below) * np.ones((1, s.w), F32)
    persp = np.clip(below / F32(max(1 - hz, 0.1)), 0, 1)
    tex = s.fbm("ground", 4.0, 5, stretch=6.0)
    if kind == "snow":
        c0, c1 = _mix(p.haze, _c((0.92, 0.95, 1.0)), 0.6), _c((0.86, 0.9, 0.97))
    elif kind == "desert":
        c0, c1 = _mix(p.haze, p.accent, 0.4), _mix(p.land_far, p.accent, 0.5)
    elif kind == "city":
        c0, c1 = _mix(p.haze, p.land_near, 0.6), _darken(p.land_near, 0.3)
    else:
        c0 = _mix(p.haze, p.land_far, 0.6)
        c1 = _mix(p.land_near, _c((0.2, 0.35, 0.15)), 0.35 if s.scene != "night" else 0.0)
    s.gradient_field(c0, c1, persp ** F32(0.6))
    s.fld *= (1.0 + (tex - 0.5) * F32(0.35))[None]
    s.paint(s.fld, mask)
    s.cover(mask, 0.5)
    s.depth += (persp * F32(-0.5)) * mask


def _water(s: _Scene) -> None:
    """Water below the horizon: a rippled mirror of everything above it, horizontal swell
    bands, a depth gradient, and a glitter path under the sun."""
    p, hz, h, w = s.p, s.hz, s.h, s.w
    y0 = min(h - 1, math.floor(hz * h))
    hb = h - y0
    rows = np.arange(y0, h, dtype=F32)[:, None] + 0.5
    dist = np.maximum(rows - F32(hz * h), 0.0)  # pixels below the horizon
    ripple = _fbm(s.rng("ripple"), hb, w, 6.0 * h / max(hb, 1), 4, 0.5, 10.0)
    wobble = (ripple - 0.5) * (dist ** F32(0.85)) * F32(0.6)
    mapy = np.clip(F32(hz * h - 1.0) - dist - wobble, 0, max(y0 - 1, 0)).astype(F32)
    mapx = np.ascontiguousarray(np.broadcast_to(np.arange(w, dtype=F32)[None, :], (hb, w)))
    depth_t = np.clip(dist / F32(max(hb, 1)), 0, 1)
    deep_t = depth_t ** F32(0.7)
    fres = F32(0.75) - depth_t * F32(0.4)  # more mirror near the horizon
    # Horizontal bands: long, thin swells that widen toward the viewer.
    swell = _fbm(s.rng("swell"), hb, w, 14.0, 3, 0.5, 16.0)
    bands = np.sin(np.sqrt(dist + 1.0) * F32(7.0) + swell * F32(10.0))
    shade = 1.0 + bands * F32(0.07)
    glitter = None
    if s.sun is not None:
        cx, _cy, r = s.sun
        spread = F32(r * 0.8) + dist / F32(h) * F32(0.35)
        column = np.exp(-np.square((s.X - cx) * F32(s.ar) / spread))
        glitter = np.clip((bands + (ripple - 0.5) * 3.0) - 0.6, 0, 1) * column * F32(0.9)
    edge = np.clip(rows - F32(hz * h), 0, 1)  # anti-aliased horizon line
    near = _mix(p.horizon, p.water, 0.4)
    for c in range(3):  # per plane: remap is fast on 2-D float32 and needs no big temporaries
        refl = cv2.remap(s.img[c], mapx, mapy, cv2.INTER_LINEAR)
        tint = F32(near[c]) + F32(p.water[c] - near[c]) * deep_t
        refl -= tint
        refl *= fres
        refl += tint
        refl *= shade
        if glitter is not None:
            refl += F32(p.light[c]) * glitter
        top = s.img[c, y0:]
        refl -= top
        refl *= edge
        top += refl
    s.open_sky[y0:] = 0
    s.depth[y0:] = 0.3 + 0.6 * (1 - depth_t)


def _treeline(s: _Scene, base: float, height: float, col: Colour, count: int, seed: str) -> None:
    rng = s.rng(seed)
    top = np.full((1, s.w), base, F32) + (_fbm1d(rng, s.w, 3, 2) - 0.5) * F32(height * 0.3)
    xs = np.sort(rng.uniform(-0.05, 1.05, count))
    for x in xs:
        hh = height * float(rng.uniform(0.55, 1.2))
        half = hh * float(rng.uniform(0.18, 0.3)) / s.ar
        d = np.abs(s.X - F32(x))
        # Conifer: a triangle with a saw-tooth edge for the branch tiers.
        tiers = np.abs(((d * F32(s.ar) / F32(hh)) * 6.0) % 1.0 - 0.5) * F32(hh * 0.05)
        tree = F32(base - hh) + d * F32(hh / half) - tiers
        np.minimum(top, tree, out=top)
    mask = s.under(top)
    # Sunlit tips, darker depths, and a little ground mist at the foot of the row.
    below = np.maximum(s.Y - top, 0)
    tone = (
        F32(0.8)
        + F32(0.45) * np.exp(below * F32(-40.0))
        + (s.fbm(seed + "-tex", 20.0, 2) - 0.5) * F32(0.25)
    )
    np.multiply(_col3(col), tone, out=s.fld)
    mist = _smooth(base - 0.05, base + 0.03, s.Y) * F32(0.3)
    np.subtract(_col3(s.p.haze), s.fld, out=s.tmp)
    s.tmp *= mist
    s.fld += s.tmp
    s.paint(s.fld, mask)
    s.cover(mask, 0.6)


def _trunks(s: _Scene) -> None:
    """Forest interior: vertical trunks in depth layers, a leafy canopy, god rays."""
    p = s.p
    rng = s.rng("trunks")
    ang = float(rng.uniform(0.25, 0.55)) * (1 if rng.random() < 0.5 else -1)
    u = s.X * F32(s.ar * math.cos(ang)) + s.Y * F32(math.sin(ang))
    beams = np.sin(u * F32(26.0) + s.fbm("rays", 1.5, 2) * F32(2.0))
    rays = _smooth(0.4, 1.0, beams) * (1 - _smooth(0.2, 1.0, s.Y)) * F32(0.3)
    bark_tex = s.fbm("bark", 40.0, 3, stretch=0.08)
    ground = _smooth(0.86, 1.0, s.Y)  # trunks flare a little where they meet the ground
    for layer in range(3):
        t = layer / 2
        col = _mix(
            _mix(p.haze, p.land_far, 0.5),
            _darken(_mix(p.land_near, _c((0.25, 0.18, 0.12)), 0.4), 0.3),
            t,
        )
        if layer:
            s.add(p.light, rays * F32(0.5))  # light shafts between the depth layers
        for _ in range(int(rng.integers(5, 9)) - layer * 2):
            x = float(rng.uniform(-0.05, 1.05))
            half = float(rng.uniform(0.006, 0.014)) * (1 + 2.2 * t) / s.ar
            c0 = max(0, int((x - half * 2.2) * s.w))
            c1 = min(s.w, int((x + half * 2.2) * s.w) + 2)
            if c1 <= c0:
                continue
            xs = s.X[:, c0:c1]
            d = (xs - F32(x)) / F32(half)  # -1..1 across the trunk
            width = F32(1.0) + np.square(ground) * F32(0.9)  # (h, 1)
            m = np.clip((width - np.abs(d)) * F32(half * s.w) + 0.5, 0, 1)
            round_ = np.sqrt(np.clip(1 - np.square(d / width), 0, 1))
            light = F32(0.45) + F32(0.55) * round_ * np.clip(1 + d * 0.7, 0, 1.4)
            light = light * (1 + (bark_tex[:, c0:c1] - 0.5) * F32(0.5 * (0.3 + t)))
            region = s.img[:, :, c0:c1]
            region += (_col3(col) * light[None] - region) * m[None]
            s.open_sky[:, c0:c1] *= 1 - m
            s.depth[:, c0:c1] += (F32(0.8 - 0.6 * t) - s.depth[:, c0:c1]) * m
    # Canopy: clumps of foliage hanging from the top edge, speckled with leaf-sized noise.
    clumps = s.fbm("canopy", 4.0, 5)
    leaves = s.fbm("leaves", 36.0, 2)
    reach = clumps * F32(0.5) + leaves * F32(0.12) + (F32(0.24) - s.Y) * F32(2.2)
    canopy = _smooth(0.5, 0.53, reach)
    dark, lit = _foliage(s)
    s.gradient_field(dark, lit, np.clip((clumps - 0.5) * 2.5 + (leaves - 0.5) * 1.6 + 0.5, 0, 1))
    s.paint(s.fld, canopy)
    s.add(p.light, rays * F32(0.7))


def _foliage(s: _Scene) -> tuple[Colour, Colour]:
    """Dark and lit leaf colours for the season."""
    p = s.p
    if s.scene == "autumn":
        return _darken(p.accent2, 0.45), _mix(p.accent, _c((1.0, 0.75, 0.25)), 0.3)
    if s.scene == "winter":
        return _mix(p.land_near, _c((0.85, 0.9, 0.95)), 0.45), _c((0.95, 0.97, 1.0))
    green = _c((0.12, 0.3, 0.12))
    return _darken(_mix(p.land_near, green, 0.5), 0.3), _mix(p.land_far, _c((0.55, 0.7, 0.25)), 0.5)


def _city(s: _Scene, layers: int = 3) -> None:
    p, hz, h, w = s.p, s.hz, s.h, s.w
    rng = s.rng("city")
    night = s.scene in ("night", "neon", "space") or "dark" in s.traits.moods
    ys = np.arange(h)[:, None]
    xs = np.arange(w)[None, :]
    for i in range(layers):
        t = i / max(layers - 1, 1)
        mask = s.mask_u8()
        x = float(rng.uniform(-0.03, 0.0))
        while x < 1.02:
            bw = float(rng.uniform(0.025, 0.07)) * (0.7 + 0.6 * t)
            bh = float(rng.lognormal(-1.9, 0.45)) * (1.2 - 0.5 * t)
            x0, x1 = round(x * w), round((x + bw) * w)
            y1 = round((hz + 0.004) * h)
            y0 = round((hz - bh) * h)
            cv2.rectangle(mask, (x0, y0), (x1 - 1, y1), 255, -1)
            if rng.random() < 0.3:  # stepped top
                inset = round(bw * w * 0.25)
                cv2.rectangle(
                    mask, (x0 + inset, y0 - round(bh * h * 0.12)), (x1 - inset, y0), 255, -1
                )
            if rng.random() < 0.15:  # antenna
                xm = (x0 + x1) // 2
                cv2.line(mask, (xm, y0), (xm, y0 - round(bh * h * 0.3)), 255, 1)
            x += bw * float(rng.uniform(0.85, 1.1))
        m = mask.astype(F32) * F32(1 / 255)
        col = _mix(_mix(p.haze, p.land_far, 0.5), _darken(p.land_near, 0.2), t)
        px, py = max(3, round(w * 0.007 * (1 + 0.5 * t))), max(3, round(h * 0.011 * (1 + 0.5 * t)))
        lit_table = rng.random((h // py + 2, w // px + 2)) < (0.45 if night else 0.15)
        win = ((xs % px) < px * 0.55) & ((ys % py) < py * 0.5) & lit_table[ys // py, xs // px]
        glow = win.astype(F32) * m
        s.paint(col, m)
        win_col = _mix(p.light, _c((1.0, 0.8, 0.45)), 0.6) if night else _lighten(col, 0.35)
        s.paint(win_col, glow * F32(0.9 if night else 0.5))
        s.cover(m, 0.85 - 0.5 * t)
    if night:  # city glow on the horizon
        s.add(
            _mix(p.accent, p.light, 0.5),
            np.exp(-np.abs(s.Y - hz) * F32(14)) * F32(0.12) * s.open_sky,
        )


def _figure(s: _Scene, large: bool) -> None:
    p = s.p
    rng = s.rng("figure")
    side = 1.0 if rng.random() < 0.5 else -1.0
    skin = _mix(_mix(_c((0.8, 0.6, 0.48)), p.accent, 0.2), p.horizon, 0.1)
    if large:
        cx = 0.5 + float(rng.uniform(-0.05, 0.05)) / s.ar
        cy, rx, ry = 0.355, 0.1, 0.13
        dx = (s.X - F32(cx)) * F32(s.ar)
        dy = s.Y - F32(cy)
        rxj = F32(rx) * (1 - F32(0.2) * _smooth(0.0, ry, dy))  # egg shape: narrower at the chin
        e = np.sqrt(np.square(dx / rxj) + np.square(dy / F32(ry)))
        head = s.aa((1 - e) * F32(ry))
        half = F32(0.046) + F32(0.29) * _smooth(0.56, 0.7, s.Y) + F32(0.05) * _smooth(0.7, 1.0, s.Y)
        torso = s.aa(np.minimum(half - np.abs(dx), s.Y - F32(cy + ry * 0.55)))
        body = np.maximum(head, torso)
        # Volume: sphere shading on the head, cylinder shading on neck and shoulders.
        nz = np.sqrt(np.clip(1 - e * e, 0, 1))
        lam_head = np.clip(
            (dx / rxj) * F32(0.55 * side) - (dy / F32(ry)) * F32(0.3) + nz * F32(0.75), 0, 1
        )
        u = np.clip(dx / half, -1, 1)
        lam_body = np.clip(u * F32(0.55 * side) + np.sqrt(1 - u * u) * F32(0.75), 0, 1)
        lam = np.where(e < 1, lam_head, lam_body)
        s.gradient_field(_darken(_mix(skin, p.land_near, 0.5), 0.3), _lighten(skin, 0.1), lam)
        neckline = F32(0.6) + np.maximum(F32(0.075) - np.abs(dx), 0) * F32(0.9)
        cloth = torso * _smooth(0.0, 0.006, s.Y - neckline)
        cloth_col = _mix(p.accent2, p.land_near, 0.5)
        np.multiply(_col3(cloth_col), (0.35 + 0.75 * lam_body)[None], out=s.tmp)
        s.tmp -= s.fld
        s.tmp *= cloth
        s.fld += s.tmp
        # Hair: a cap over the crown, falling to the jaw (or the shoulders) at the sides.
        long_hair = float(rng.uniform(0.05, 0.3))
        wave = (s.fbm("hair", 12.0, 3, stretch=0.4) - 0.5) * F32(0.03)
        hy = s.Y - F32(cy - 0.015)
        hx = dx / F32(rx * 1.16)
        cap = s.aa((1 - np.sqrt(hx * hx + np.square(hy / F32(ry * 1.1)))) * F32(0.1))
        crown = _smooth(-0.005, 0.02, F32(-ry * 0.3) - dy + wave + np.square(dx) * F32(3.0))
        sides = _smooth(0.0, 0.015, np.abs(dx) - F32(rx * 0.72) + wave)
        fall = s.aa(np.minimum(F32(rx * 1.3) - np.abs(dx), F32(long_hair) - dy + wave)) * (dy > 0)
        hair = np.maximum(cap * np.maximum(crown, sides), fall * sides)
        hair_col = _darken(
            _mix(_c((0.25, 0.16, 0.1)), p.accent, 0.25), float(rng.uniform(0.0, 0.5))
        )
        s.tmp[:] = _col3(hair_col) * (0.5 + 0.7 * lam_head)[None]
        s.tmp -= s.fld
        s.tmp *= hair
        s.fld += s.tmp
        body = np.maximum(body, hair)
        lit_side = np.clip(0.5 + dx * F32(side * 4), 0, 1)
    else:
        cx = 0.5 + float(rng.uniform(-0.2, 0.2))
        foot = s.hz + 0.12
        hgt = 0.16
        mask = s.mask_u8()
        w, h = s.w, s.h

        def pt(x: float, y: float) -> tuple[int, int]:
            return (round((cx + x / s.ar) * w * 16), round(y * h * 16))

        poly = np.array(
            [
                pt(-0.03, foot - hgt * 0.78),
                pt(0.03, foot - hgt * 0.78),
                pt(0.045, foot),
                pt(-0.045, foot),
            ],
            np.int32,
        )
        cv2.fillPoly(mask, [poly], 255, cv2.LINE_AA, shift=4)
        cv2.circle(
            mask, pt(0, foot - hgt * 0.87), round(hgt * 0.11 * h * 16), 255, -1, cv2.LINE_AA, 4
        )
        body = mask.astype(F32) * F32(1 / 255)
        dx = (s.X - F32(cx)) * F32(s.ar)
        lit_side = np.clip(0.5 + dx * F32(side * 20), 0, 1)
        dark = _darken(_mix(skin, p.land_near, 0.85), 0.3)
        s.gradient_field(dark, _mix(dark, p.light, 0.15), lit_side)
    s.paint(s.fld, body)
    # Rim light: the figure's edge on the lit side catches the light.
    edge = np.clip(body - _blur(body, 2.0 if large else 1.0), 0, 1) * 2.5 * lit_side
    s.add(_mix(p.light, p.accent, 0.3), edge * F32(0.8))
    s.cover(body, 0.1)


def _bokeh(s: _Scene) -> None:
    p = s.p
    rng = s.rng("bokeh")
    base = s.fbm("backdrop", 1.2, 3)
    s.gradient_field(_darken(p.sky_top, 0.3), _mix(p.sky_mid, p.horizon, 0.4), base)
    np.subtract(s.fld, s.img, out=s.tmp)
    s.img += s.tmp
    mask = s.mask_u8()
    for _ in range(int(rng.integers(14, 26))):
        x, y = float(rng.random()), float(rng.random())
        r = float(rng.uniform(0.02, 0.07)) * s.h
        level = int(rng.integers(50, 150))
        cv2.circle(
            mask, (round(x * s.w * 4), round(y * s.h * 4)), round(r * 4), level, -1, cv2.LINE_AA, 2
        )
    mask = mask.astype(F32) * F32(1 / 255)
    mask = _blur(mask, 1.5)
    s.add(_mix(p.light, p.accent, 0.5), mask)


def _abstract(s: _Scene) -> None:
    p = s.p
    q = s.fbm("warp-x", 1.3, 4)
    r = s.fbm("warp-y", 1.3, 4)
    base = s.fbm("field", 1.8, 6)
    amt = 0.4 * min(s.h, s.w)
    mapx = (s.X * F32(s.w) - 0.5 + (q - 0.5) * F32(amt * 2)).astype(F32)
    mapy = (s.Y * F32(s.h) - 0.5 + (r - 0.5) * F32(amt * 2)).astype(F32)
    f = cv2.remap(base, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    mean, std = float(f.mean()), float(f.std()) + 1e-6
    v = np.clip((f - mean) * F32(0.23 / std) + 0.5 + (q - 0.5) * 0.3, 0, 1)
    # Strata: gentle contour bands make the field read as marbled paint, not noise.
    v = np.clip(v + np.sin(v * F32(38.0)) * F32(0.012), 0, 1)
    lut = _stops_lut(p.stops)
    idx = (v * 255).astype(np.intp)
    s.img[:] = lut[:, idx]
    gx = cv2.Sobel(v, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(v, cv2.CV_32F, 0, 1, ksize=3)
    shade = np.clip((gx * 0.6 - gy * 0.8) * F32(min(s.h, s.w) / 60.0), -0.5, 0.5)
    s.img *= (1.0 + shade * F32(0.35))[None]
    rng = s.rng("orbs")
    for _ in range(int(rng.integers(1, 4))):
        x, y, rad = (
            float(rng.uniform(0.15, 0.85)),
            float(rng.uniform(0.15, 0.85)),
            float(rng.uniform(0.08, 0.2)),
        )
        d = s.dist(x, y)
        s.add(_mix(p.light, p.accent2, 0.4), np.exp(-d / F32(rad)) * F32(0.25))
        ring = np.exp(-np.square((d - F32(rad)) * F32(s.h / 3.0))) * F32(0.35)
        s.add(p.light, ring)
    s.depth[:] = 0.5
    s.open_sky[:] = 0


def _stops_lut(stops: tuple[Colour, ...]) -> np.ndarray:
    """(3, 256) gradient lookup through the palette stops."""
    xs = np.linspace(0, 1, len(stops))
    t = np.linspace(0, 1, 256)
    arr = np.stack(stops)
    return np.stack([np.interp(t, xs, arr[:, c]) for c in range(3)]).astype(F32)


def _meadow(s: _Scene) -> None:
    p = s.p
    rng = s.rng("flowers")
    cols = [p.accent, p.accent2, _hue_shift(p.accent, 0.5), _c((1, 1, 1))]
    masks = [s.mask_u8() for _ in cols]
    n = int(900 * s.ar)
    for _ in range(n):
        y = s.hz + (1 - s.hz) * float(rng.random()) ** 0.7
        persp = (y - s.hz) / max(1 - s.hz, 0.1)
        x = float(rng.random())
        r = max(1.0, persp * 0.012 * s.h * float(rng.uniform(0.5, 1.3)))
        k = int(rng.integers(len(cols)))
        cv2.circle(
            masks[k],
            (round(x * s.w * 4), round(y * s.h * 4)),
            round(r * 4),
            255,
            -1,
            cv2.LINE_AA,
            2,
        )
    for col, m in zip(cols, masks, strict=True):
        s.paint(col, m.astype(F32) * F32(1 / 255))


def _synthwave(s: _Scene) -> None:
    p = s.p
    hz = s.hz = 0.6
    top, mid, hor = _c("#12002a"), _c("#5b0f6b"), _c("#ff4f9a")
    if s.traits.colours:
        top, mid = _mix(top, p.sky_top, 0.5), _mix(mid, p.sky_mid, 0.5)
    t = np.clip(s.Y / hz, 0, 1)
    rows = _col3(top) + _col3(mid - top) * _smooth(0, 0.6, t)[None]
    rows = rows + (_col3(hor) - rows) * _smooth(0.5, 1.0, t)[None]
    s.img[:] = rows
    _stars(s, 0.6)
    cx, cy, r = 0.5, hz - 0.16, 0.2
    s.sun = (cx, cy, r)
    d = s.dist(cx, cy)
    s.add(_c("#ff7ab0"), np.exp(-d / F32(r * 1.5)) * F32(0.35))
    disc = s.aa(F32(r) - d)
    below_centre = s.Y - F32(cy)
    cut = np.sin(below_centre * F32(180) * (1 + below_centre * 6)) > -0.2
    stripes = np.where(below_centre > 0, cut, 1.0)  # the classic sliced retro sun
    s.gradient_field(_c("#ffe66b"), _c("#ff3d8b"), np.clip((s.Y - (cy - r)) / (2 * r), 0, 1))
    s.paint(s.fld, disc * stripes)
    rng = s.rng("synth-mountains")
    prof = _fbm1d(rng, s.w, 4, 4)
    mtop = F32(hz) - F32(0.12) * prof * (0.4 + np.abs(s.X - 0.5) * 2)
    m = s.under(mtop)
    s.paint(_c("#1a0630"), m)
    s.add(
        _c("#ff3df0"),
        np.exp(-np.abs(s.Y - mtop) * F32(s.h * 0.4)) * F32(0.8) * (s.Y - mtop > -0.01),
    )
    # Perspective grid floor.
    below = np.maximum(s.Y - F32(hz), F32(1e-3))
    floor = s.aa(s.Y - F32(hz)) * np.ones((1, s.w), F32)
    s.paint(_c("#0c0220"), floor)
    kx, ky = 3.0, 0.5
    zx = (s.X - 0.5) * F32(s.ar * kx) / below
    zy = F32(ky) / below
    # Grid units per pixel (an analytic fwidth); the side lines also slant, so their
    # spacing shrinks vertically too.
    fx = np.hypot(F32(kx) / (below * s.h), np.abs(zx) / (below * s.h))
    fy = F32(ky) / (below * below * s.h)
    gx = np.abs(zx - np.round(zx)) / fx
    gy = np.abs(zy - np.round(zy)) / fy
    # Lines closer than ~3 pixels apart fade out instead of aliasing into moire.
    vert = np.clip(1.0 - gx * 0.6, 0, 1) * np.clip((0.25 - fx) * 8, 0, 1)
    hor = np.clip(1.0 - gy * 0.6, 0, 1) * np.clip((0.25 - fy) * 8, 0, 1)
    lines = np.maximum(vert, hor) * floor * _smooth(0.0, 0.05, below)
    lines = np.maximum(lines, _blur(lines, 2.0) * F32(0.6))
    s.add(_c("#36f2ff"), lines * F32(0.9))
    s.add(_c("#ff3df0"), np.exp(-np.abs(s.Y - hz) * F32(40)) * F32(0.5))
    s.open_sky = (s.Y - mtop < 0) * (1 - disc)
    s.depth[:] = 0.5


def _pattern(s: _Scene) -> None:
    """Wallpaper: periodic motif lattice over a soft field (made tileable when finishing)."""
    p = s.p
    _abstract(s)
    s.img *= 0.35
    s.img += 0.45 * _col3(_mix(p.stops[2], p.stops[4], 0.5))
    rng = s.rng("motifs")
    # Multiples of 4, so a half-period shift maps the lattice (and its colouring) onto itself.
    n = int(rng.choice([4, 8, 8, 12]))
    ny = max(4, round(n / s.ar / 4) * 4)
    row = np.floor(s.Y * ny)
    stagger = (row % 2) * F32(0.5)
    gx = s.X * F32(n) + stagger
    col_i = np.floor(gx)
    cu = gx - col_i - F32(0.5)
    cv = s.Y * F32(ny) - row - F32(0.5)
    dx = cu * F32(s.ar / n)
    dy = cv * F32(1.0 / ny)
    d = np.sqrt(dx * dx + dy * dy)
    parity = (col_i + row) % 2
    cell = min(s.ar / n, 1.0 / ny)
    kinds = rng.integers(0, 3, 2)
    for sub, col in ((0, p.stops[1]), (1, p.stops[4])):
        rad = F32(cell * (0.36 if sub else 0.22))
        if kinds[sub] == 0:
            sd = rad - d
        elif kinds[sub] == 1:
            theta = np.arctan2(dy, dx)
            petals = rad * (F32(0.62) + F32(0.38) * np.abs(np.cos(theta * F32(2.5))))
            sd = np.maximum(petals - d, rad * F32(0.2) - d)
        else:
            sd = rad - (np.abs(dx) + np.abs(dy))
        s.paint(col, s.aa(sd) * (parity == sub))
    s.finish.seamless = True


# --------------------------------------------------------------------------- composition

_LAND = frozenset({"mountain", "water", "forest", "city", "desert", "flowers", "snow"})


def _compose(s: _Scene, style: str | None) -> None:
    subj = s.subjects
    if style == "digital_illustration/80s":
        s.kind = "synthwave"
        _synthwave(s)
        return
    if style == "digital_illustration/seamless":
        s.kind = "pattern"
        _pattern(s)
        return
    studio = style == "realistic_image/studio_portrait"
    if studio or ("figure" in subj and not (subj & _LAND)):
        s.kind = "portrait"
        _portrait(s, studio)
    elif subj & _LAND or subj & {"sun", "moon", "clouds"}:
        _landscape(s)
    elif "stars" in subj:
        if s.scene == "space" or "space" in s.traits.scenes:
            s.kind = "space"
            _space(s)
        else:
            _landscape(s)
    else:
        s.kind = "abstract"
        _abstract(s)


def _landscape(s: _Scene) -> None:
    subj = s.subjects
    rng = s.rng("plan")
    water, mount = "water" in subj, "mountain" in subj
    forest, city, desert = "forest" in subj, "city" in subj, "desert" in subj
    flowers, snow = "flowers" in subj, "snow" in subj
    sky_only = not (water or mount or forest or city or desert or flowers or snow)
    if sky_only:  # sun, moon, clouds or stars alone: the seed picks a sea or hills below
        water = bool(rng.random() < 0.45) or "mountain" in s.traits.negative_subjects
        mount = not water
    if snow and not (mount or water or city or forest):
        mount = True
    if city and not (water or mount or forest or desert) and rng.random() < 0.6:
        water = True  # a waterfront doubles the lights
    interior = forest and not (water or mount or city or desert) and rng.random() < 0.6
    if interior:
        s.hz = 0.8
    elif sky_only:
        s.hz = float(rng.uniform(0.64, 0.76))
    elif water and not (mount or city):
        s.hz = float(rng.uniform(0.48, 0.6))
    else:
        s.hz = float(rng.uniform(0.55, 0.68))
    night = s.scene in ("night", "space") or "stars" in subj
    _sky(s)
    if "stars" in subj:
        _stars(s, 1.0)
        if s.scene == "space":
            _nebula(s)
    amount = float(rng.uniform(0.15, 0.55)) + (0.45 if "clouds" in subj else 0.0)
    amount += 0.3 if s.scene == "storm" else 0.0
    amount -= 0.3 if night else 0.0
    if "cumulus" in s.look.effects:
        amount += 0.25
    if amount > 0.05:
        _clouds(s, amount, cumulus="cumulus" in s.look.effects)
    if "moon" in subj:
        _sun(s, moon=True)
    if "sun" in subj:
        _sun(s)
    if interior:
        _ground(s, "forest")
        _treeline(s, s.hz + 0.01, 0.18, _mix(s.p.haze, s.p.land_far, 0.5), 70, "treeline-far")
        _trunks(s)
    else:
        foreground = (mount or desert) and not (water or forest or city or flowers)
        if mount or desert:
            _mountains(
                s,
                4 if foreground else 3,
                foreground,
                snow or s.scene == "winter",
                desert and not mount,
            )
        if city:
            _city(s)
        if not water and not foreground:
            kind = "snow" if snow else "desert" if desert else "city" if city else "grass"
            _ground(s, kind)
        if forest:
            far_col = _mix(_mix(s.p.haze, s.p.land_far, 0.55), _c((0.1, 0.3, 0.15)), 0.2)
            _treeline(s, s.hz + 0.004, 0.08, far_col, 90, "treeline-far")
            if not water:
                near_col = _darken(_mix(s.p.land_near, _c((0.05, 0.2, 0.08)), 0.3), 0.2)
                _treeline(s, min(1.02, s.hz + 0.25), 0.3, near_col, 26, "treeline-near")
        if water:
            _water(s)
        if flowers and not water:
            _meadow(s)
    if "figure" in subj:
        _figure(s, large=False)


def _portrait(s: _Scene, studio: bool) -> None:
    s.hz = 0.7
    if studio:
        p = s.p
        back = _mix(_mix(p.haze, p.sky_mid, 0.35), _c((0.42, 0.42, 0.44)), 0.5)
        d = s.dist(0.5 + 0.12, 0.35)
        s.gradient_field(_lighten(back, 0.25), _darken(back, 0.55), np.clip(d * 1.1, 0, 1))
        s.img[:] = s.fld
    else:
        _bokeh(s)
    _figure(s, large=True)


def _space(s: _Scene) -> None:
    p = s.p
    s.hz = 1.0
    t = s.fbm("space-wash", 1.0, 2)
    s.gradient_field(p.sky_top, p.sky_mid, np.clip(t * 1.2 - 0.1, 0, 1))
    s.img[:] = s.fld
    _nebula(s)
    _stars(s, 1.6)
    rng = s.rng("planet")
    if "moon" in s.subjects or rng.random() < 0.6:
        cx, cy = float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.25, 0.75))
        r = float(rng.uniform(0.08, 0.22))
        d = s.dist(cx, cy)
        disc = s.aa(F32(r) - d)
        bands = s.fbm("planet-bands", 3.0, 4, stretch=8.0)
        lx = (s.X - F32(cx)) * F32(s.ar) / F32(r)
        ly = (s.Y - F32(cy)) / F32(r)
        lit = np.clip(0.15 + 0.85 * (-(lx * 0.6 + ly * 0.5) + 0.45), 0, 1)
        s.gradient_field(_darken(p.accent, 0.6), _lighten(p.accent2, 0.2), bands)
        s.fld *= lit[None]
        s.add(p.accent, np.exp(-np.abs(d - F32(r)) * F32(60)) * F32(0.35))
        s.paint(s.fld, disc)
        s.open_sky *= 1 - disc


# --------------------------------------------------------------------------- grading


def _detail(s: _Scene) -> None:
    """Fine surface texture; its character is where the scheduler shows."""
    amp = s.look.texture + s.sched.detail
    if amp <= 0:
        return
    rng = _rng(s.key, "detail", s.sched.phase)
    tex = _fbm(rng, s.h, s.w, 48.0, 2 + max(0, s.sched.octaves), s.sched.gain)
    tex -= 0.5
    tex *= F32(amp * 2.0) * (1.0 - s.open_sky * 0.7)
    tex += 1.0
    s.img *= tex[None]


def _grade(s: _Scene) -> None:
    t, look = s.traits, s.look
    img = s.img
    if s.sched.smooth > 0:
        sm = _blur3(img, s.sched.smooth)
        img += (sm - img) * F32(0.7)
    if look.soften > 0:
        sigma = look.soften * min(s.h, s.w) / 512
        img[:] = _blur3(img, sigma)
    if t.softness > 0:  # dreamy/soft moods: bloom
        bloom = _blur3(img, min(s.h, s.w) * 0.03)
        img += (np.maximum(bloom, img) - img) * F32(0.6 * t.softness)
    g = s.guidance
    contrast = t.contrast * look.contrast * s.sched.contrast * (0.9 + 0.022 * g)
    saturation = t.saturation * look.saturation * (0.92 + 0.016 * g)
    brightness = t.brightness * look.brightness
    lum = _luma(img)
    img -= lum[None]
    img *= F32(saturation)
    lum -= 0.5
    lum *= F32(contrast)
    lum += 0.5
    img *= F32(math.sqrt(contrast))
    img += lum[None]
    img *= F32(brightness)
    if look.warmth:
        img[0] *= F32(1 + look.warmth)
        img[2] *= F32(1 - look.warmth)
    vig = max(t.vignette, look.vignette)
    if vig > 0:
        r2 = np.square((s.X - 0.5) * 2) * F32(0.7) + np.square((s.Y - 0.5) * 2) * F32(0.7)
        img *= (1.0 - F32(vig * 0.6) * r2)[None]


def _suppress(s: _Scene) -> None:
    """Negative colour words: pull pixels of those hues toward grey."""
    negs = [np.array(rgb, F32) / 255 for _, rgb in s.traits.negative_colours]
    if not negs:
        return
    img = s.img
    np.clip(img, 0, 1, out=img)
    hsv = cv2.cvtColor(cv2.merge([img[0], img[1], img[2]]), cv2.COLOR_RGB2HSV)
    hue, sat = hsv[:, :, 0], hsv[:, :, 1]
    lum = _luma(img)
    for c in negs:
        h, sc, v = _hsv(c)
        if sc < 0.18 or v < 0.12:  # black / white / grey: compress that end of the range
            if v < 0.5:
                img *= 0.8
                img += 0.2
            else:
                img *= 0.82
            continue
        dh = np.abs(hue - F32(h * 360))
        dh = np.minimum(dh, 360 - dh)
        m = np.clip(1 - dh / 50, 0, 1) * _smooth(0.08, 0.3, sat) * F32(0.92)
        np.subtract(lum[None], img, out=s.tmp)
        s.tmp *= m
        img += s.tmp


# --------------------------------------------------------------------------- endpoint looks


def _local_contrast(s: _Scene, amount: float, sigma_frac: float = 0.03) -> None:
    blur = _blur3(s.img, min(s.h, s.w) * sigma_frac)
    np.subtract(s.img, blur, out=s.tmp)
    s.tmp *= F32(amount)
    s.img += s.tmp


def _posterize(s: _Scene, levels: int, strength: float, mask: np.ndarray | None = None) -> None:
    q = np.round(s.img * levels) / levels
    q -= s.img
    q *= F32(strength) if mask is None else mask * F32(strength)
    s.img += q


def _edges(s: _Scene, lo: int = 30, hi: int = 90, sigma: float = 1.0) -> np.ndarray:
    lum = np.clip(_luma(s.img), 0, 1)
    u8 = (cv2.GaussianBlur(lum, (0, 0), sigma) * 255).astype(np.uint8)
    return cv2.Canny(u8, lo, hi).astype(F32) * F32(1 / 255)


def _fx_teal_orange(s: _Scene) -> None:
    lum = np.clip(_luma(s.img), 0, 1)
    s.add(_c((-0.06, 0.02, 0.07)), np.square(1 - lum))
    s.add(_c((0.08, 0.02, -0.07)), np.square(lum))


def _fx_flare(s: _Scene) -> None:
    if s.sun is not None:
        cx, cy, _ = s.sun
    else:
        lum = _blur(_luma(s.img), 4)
        iy, ix = np.unravel_index(int(np.argmax(lum)), lum.shape)
        cx, cy = (ix + 0.5) / s.w, (iy + 0.5) / s.h
    streak = np.exp(-np.abs(s.Y - F32(cy)) * F32(s.h * 0.35)) * np.exp(
        -np.abs(s.X - F32(cx)) * F32(s.ar * 1.6)
    )
    s.add(_c((0.35, 0.6, 1.0)), streak * F32(0.5))
    for k, size in ((0.6, 0.03), (1.3, 0.05), (1.7, 0.02)):
        gx, gy = cx + (0.5 - cx) * k * 2, cy + (0.5 - cy) * k * 2
        s.add(_c((0.6, 0.4, 0.25)), s.aa(F32(size) - s.dist(gx, gy)) * F32(0.08))


def _fx_neon(s: _Scene) -> None:
    """Black light: the scene sinks to near-black, its contours fluoresce in UV colours."""
    img = s.img
    lum = np.clip(_luma(img), 0, 1)
    lines = _edges(s, 20, 60, 1.5)
    glow = _blur(lines, 2.0) * F32(2.2) + _blur(lines, 8.0) * F32(1.6)
    phase = s.X * F32(0.9) + s.Y * F32(0.5) + lum * F32(0.6)
    tau = F32(2 * math.pi)
    neon = np.stack([0.5 + 0.5 * np.cos(tau * (phase + F32(off))) for off in (0.0, 0.3, 0.62)])
    neon = np.square(neon) * F32(1.2)
    bright = _smooth(0.55, 0.95, lum)
    img *= F32(0.1)
    img += _col3(_c((0.03, 0.0, 0.07)))
    img += neon * (lines * F32(0.9) + np.clip(glow, 0, 1.2) * F32(0.55) + bright * F32(0.5))[None]


def _fx_painterly(s: _Scene) -> None:
    """Brush smear (small domain warp) + soft colour quantisation: gouache-like skies."""
    amt = min(s.h, s.w) * 0.006
    dx = (s.fbm("brush-x", 24.0, 2, stretch=3.0) - 0.5) * F32(amt * 4)
    dy = (s.fbm("brush-y", 24.0, 2, stretch=3.0) - 0.5) * F32(amt * 2)
    mapx = (s.X * s.w - 0.5 + dx).astype(F32)
    mapy = (s.Y * s.h - 0.5 + dy).astype(F32)
    hwc = cv2.merge([s.img[0], s.img[1], s.img[2]])
    hwc = cv2.remap(hwc, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    hwc = cv2.bilateralFilter(hwc, 5, 0.08, 3)
    s.img[:] = np.moveaxis(hwc, -1, 0)
    _posterize(s, 14, 0.45)
    strokes = s.fbm("strokes", 30.0, 2, stretch=4.0)
    s.img *= (1 + (strokes - 0.5) * F32(0.08))[None]


def _fx_geometric(s: _Scene) -> None:
    p = s.p
    rng = s.rng("forms")
    _posterize(s, 10, 0.5)
    lines = s.mask_u8()
    for _ in range(int(rng.integers(5, 9))):
        mask = s.mask_u8()
        kind = int(rng.integers(3))
        cx, cy = float(rng.uniform(0.1, 0.9)) * s.w, float(rng.uniform(0.1, 0.9)) * s.h
        r = float(rng.uniform(0.08, 0.3)) * min(s.w, s.h)
        if kind == 0:
            cv2.circle(mask, (round(cx * 4), round(cy * 4)), round(r * 4), 255, -1, cv2.LINE_AA, 2)
            cv2.circle(lines, (round(cx * 4), round(cy * 4)), round(r * 4), 200, 1, cv2.LINE_AA, 2)
        else:
            sides = 3 if kind == 1 else 4
            a0 = float(rng.uniform(0, math.pi))
            pts = np.array(
                [
                    (
                        cx + r * math.cos(a0 + 2 * math.pi * k / sides),
                        cy + r * math.sin(a0 + 2 * math.pi * k / sides),
                    )
                    for k in range(sides)
                ]
            )
            pts16 = np.round(pts * 16).astype(np.int32)
            cv2.fillPoly(mask, [pts16], 255, cv2.LINE_AA, shift=4)
            cv2.polylines(lines, [pts16], True, 200, 1, cv2.LINE_AA, shift=4)
        m = mask.astype(F32) * F32(1 / 255)
        col = [p.accent, p.accent2, p.light, p.sky_mid, p.horizon][int(rng.integers(5))]
        if rng.random() < 0.5:
            s.paint(col, m * F32(rng.uniform(0.25, 0.5)))
        else:  # multiply: a translucent plane
            s.img *= (1 - m * F32(0.35))[None]
    for k in range(1, 8):  # construction grid
        y = round(s.h * k / 8)
        cv2.line(lines, (0, y), (s.w - 1, y), 60, 1)
        x = round(s.w * k / 8)
        cv2.line(lines, (x, 0), (x, s.h - 1), 60, 1)
    s.add(_c((1.0, 1.0, 1.0)), lines.astype(F32) * F32(0.45 / 255))


def _fx_cel(s: _Scene) -> None:
    look = s.look  # the pony models differ through the look: bolder ink, softer anime
    sky = _smooth(0.3, 0.8, s.open_sky)
    lum = np.clip(_luma(s.img), 1e-3, 2)
    levels = 4
    q = (np.floor(lum * levels) + 0.55) / levels
    ratio = q / lum
    ratio = ratio + (1 - ratio) * sky  # anime skies keep their smooth gradients
    s.img *= ratio[None]
    edges = _edges(s, 40, 110, 2.0)
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8)) if look.contrast > 1.05 else edges
    ink = edges * (1 - sky) * F32(0.85 if look.brightness <= 1.05 else 0.55)
    s.img *= (1 - ink)[None]
    _local_contrast(s, 0.15)


def _fx_edges(s: _Scene) -> None:
    e = _edges(s, 35, 100)
    s.paint(_lighten(s.p.light, 0.3), e * F32(0.6))
    s.add(_mix(s.p.light, s.p.accent, 0.5), _blur(e, 1.5) * F32(0.4))


def _fx_depth(s: _Scene) -> None:
    fog = np.power(np.clip(s.depth, 0, 1), F32(1.6)) * F32(0.32) * (1 - s.open_sky * F32(0.6))
    s.paint(_mix(s.p.haze, s.p.horizon, 0.4), fog)
    blur = _blur3(s.img, min(s.h, s.w) * 0.006)
    np.subtract(blur, s.img, out=s.tmp)
    s.tmp *= _smooth(0.45, 1.0, s.depth) * F32(0.85)
    s.img += s.tmp


def _fx_fill(s: _Scene) -> None:
    edge = np.minimum(np.minimum(s.X, 1 - s.X) * F32(s.ar), np.minimum(s.Y, 1 - s.Y))
    border = 1 - _smooth(0.03, 0.16, edge)
    blur = _blur3(s.img, min(s.h, s.w) * 0.008)
    np.subtract(blur, s.img, out=s.tmp)
    s.tmp *= border * F32(0.9)
    s.img += s.tmp
    s.img *= F32(0.9)
    s.img += F32(0.06)


def _fx_remix(s: _Scene) -> None:
    rng = s.rng("remix")
    shift = float(rng.uniform(30, 90)) * (1 if rng.random() < 0.5 else -1)
    np.clip(s.img, 0, 1, out=s.img)
    hsv = cv2.cvtColor(cv2.merge([s.img[0], s.img[1], s.img[2]]), cv2.COLOR_RGB2HSV)
    hsv[:, :, 0] = (hsv[:, :, 0] + F32(shift)) % 360
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    s.img[:] = np.moveaxis(rgb, -1, 0)
    lum = _luma(s.img)
    s.add(s.p.accent * 0.15 - 0.05, np.square(1 - lum))


def _fx_lora(s: _Scene) -> None:
    _posterize(s, 9, 0.55)
    lum = np.clip(_luma(s.img), 0, 1)
    s.add(_c((0.07, 0.03, -0.04)), lum)
    s.add(_c((-0.03, 0.0, 0.05)), 1 - lum)


def _fx_steps(s: _Scene) -> None:
    s.img[:] = _blur3(s.img, min(s.h, s.w) * 0.0025)
    _posterize(s, 22, 0.6)


def _fx_old(s: _Scene) -> None:
    np.clip(s.img, 0, 1, out=s.img)
    ycc = cv2.cvtColor(cv2.merge([s.img[0], s.img[1], s.img[2]]), cv2.COLOR_RGB2YCrCb)
    y, cr, cb = cv2.split(ycc)
    cr, cb = _blur(cr, 2.5), _blur(cb, 2.5)
    rgb = cv2.cvtColor(cv2.merge([y, cr, cb]), cv2.COLOR_YCrCb2RGB)
    s.img[:] = np.moveaxis(rgb, -1, 0)


def _fx_hyper(s: _Scene) -> None:
    _local_contrast(s, 0.6, 0.02)
    lum = _luma(s.img)
    chroma = np.abs(s.img - lum[None]).max(axis=0)
    vib = 1 + (1 - np.clip(chroma * 3, 0, 1)) * F32(0.6)  # vibrance: lift the dull colours most
    s.img -= lum[None]
    s.img *= vib[None]
    s.img += lum[None]


_EFFECTS: dict[str, Callable[[_Scene], None]] = {
    "clarity": lambda s: _local_contrast(s, 0.25),
    "teal_orange": _fx_teal_orange,
    "flare": _fx_flare,
    "neon": _fx_neon,
    "painterly": _fx_painterly,
    "geometric": _fx_geometric,
    "cel": _fx_cel,
    "edges": _fx_edges,
    "depth": _fx_depth,
    "fill": _fx_fill,
    "remix": _fx_remix,
    "lora": _fx_lora,
    "steps": _fx_steps,
    "old": _fx_old,
    "hyper": _fx_hyper,
    "sd3": lambda s: _local_contrast(s, 0.12),
    "raw": lambda s: None,
    "cumulus": lambda s: None,  # used while composing
    "letterbox": lambda s: setattr(s.finish, "letterbox", 1.0),
}


# --------------------------------------------------------------------------- Re-Craft styles


def _paper(s: _Scene, tone: Colour, amount: float = 0.06) -> np.ndarray:
    """A cream paper field with fibre texture, in s.fld."""
    fib = s.fbm("paper", 60.0, 2, stretch=0.4)
    blot = s.fbm("paper-blot", 3.0, 3)
    np.multiply(
        _col3(tone), (1 + (fib - 0.5) * F32(amount) + (blot - 0.5) * F32(amount))[None], out=s.fld
    )
    return s.fld


def _hatch(
    s: _Scene, angle: float, period: float, width: np.ndarray, wobble: np.ndarray
) -> np.ndarray:
    u = (s.X * F32(s.w * math.cos(angle)) + s.Y * F32(s.h * math.sin(angle))) / F32(period)
    u = u + wobble
    tri = np.abs(u - np.floor(u) - F32(0.5)) * 2  # 0 on a line's centre, 1 between lines
    return np.clip((width - tri) * F32(period / 2.0) + 0.5, 0, 1)


def _st_realistic(s: _Scene) -> None:
    _local_contrast(s, 0.15)
    s.finish.sharpen, s.finish.grain = 0.45, 1.5


def _st_b_and_w(s: _Scene) -> None:
    img = s.img
    mono = img[0] * F32(0.45) + img[1] * F32(0.42) + img[2] * F32(0.13)
    mono = np.clip((mono - 0.5) * F32(1.2) + 0.5, 0, 1)
    img[:] = mono[None]
    _local_contrast(s, 0.2)
    s.finish.greyscale, s.finish.grain, s.finish.sharpen = True, 3.0, 0.4


def _st_enterprise(s: _Scene) -> None:
    s.img[:] = _blur3(s.img, min(s.h, s.w) * 0.004)
    lum = _luma(s.img)
    s.img -= lum[None]
    s.img *= F32(0.5)
    s.img += lum[None]
    s.paint(_c((0.2, 0.45, 0.75)), np.full((1, 1), 0.14, F32))
    s.img *= F32(0.88)
    s.img += F32(0.12)
    rng = s.rng("enterprise")
    for _ in range(3):
        x, y, r = float(rng.random()), float(rng.random()), float(rng.uniform(0.15, 0.4))
        s.add(_c((0.9, 0.95, 1.0)), s.aa(F32(r) - s.dist(x, y)) * F32(0.06))
    s.finish.grain, s.finish.sharpen = 0.0, 0.2


def _st_hard_flash(s: _Scene) -> None:
    d = s.dist(0.5, 0.45)
    flash = F32(1.55) - np.clip(d * F32(1.7), 0, 1.15)
    s.img *= flash[None]
    s.img -= 0.5
    s.img *= F32(1.3)
    s.img += 0.5
    s.img[2] *= F32(1.05)
    s.finish.sharpen, s.finish.grain = 0.6, 2.0


def _st_hdr(s: _Scene) -> None:
    _local_contrast(s, 1.1, 0.05)
    _local_contrast(s, 0.5, 0.01)
    lum = _luma(s.img)
    s.img -= lum[None]
    s.img *= F32(1.35)
    s.img += lum[None]
    s.img[:] = s.img / (1 + np.abs(s.img - 0.5) * F32(0.6))  # tone-compress the extremes
    s.img += F32(0.12)
    s.finish.sharpen = 0.7


def _st_motion_blur(s: _Scene) -> None:
    rng = s.rng("motion")
    length = max(5, round(s.w * float(rng.uniform(0.06, 0.1))))
    angle = float(rng.uniform(-8, 8))
    kernel = np.zeros((length, length), F32)
    kernel[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    kernel /= kernel.sum()
    hwc = cv2.merge([s.img[0], s.img[1], s.img[2]])
    hwc = cv2.filter2D(hwc, -1, kernel, borderType=cv2.BORDER_REFLECT)
    s.img[:] = np.moveaxis(hwc, -1, 0)
    s.finish.grain, s.finish.sharpen = 0.0, 0.0


def _st_natural_light(s: _Scene) -> None:
    s.img *= F32(0.9)
    s.img += F32(0.07)
    s.img[0] *= F32(1.05)
    s.img[2] *= F32(0.95)
    bloom = _blur3(s.img, min(s.h, s.w) * 0.02)
    s.img += (np.maximum(bloom, s.img) - s.img) * F32(0.35)
    s.finish.sharpen, s.finish.grain = 0.3, 1.2


def _st_studio_portrait(s: _Scene) -> None:
    _local_contrast(s, 0.1)
    r2 = np.square((s.X - 0.5) * 2) + np.square((s.Y - 0.45) * 2)
    s.img *= (1 - r2 * F32(0.22))[None]
    s.finish.sharpen, s.finish.grain = 0.45, 1.0


def _st_digital_illustration(s: _Scene) -> None:
    _posterize(s, 12, 0.7)
    lum = _luma(s.img)
    s.img -= lum[None]
    s.img *= F32(1.2)
    s.img += lum[None]
    e = _edges(s, 30, 90, 1.2)
    s.img *= (1 - e * F32(0.35))[None]
    s.finish.grain, s.finish.sharpen = 0.0, 0.2


def _st_poster(s: _Scene) -> None:
    lum = np.clip(_luma(_blur3(s.img, min(s.h, s.w) * 0.003)), 0, 0.999)
    bands = np.floor(lum * 5).astype(np.intp)
    inks = np.stack(
        [s.p.stops[0], s.p.stops[1], s.p.stops[3], s.p.stops[4], _lighten(s.p.stops[5], 0.2)], 1
    )
    flat = inks[:, bands]
    # Keep a little of the hue of each area, so the poster is not a pure gradient map.
    s.img[:] = flat * F32(0.75) + s.img * F32(0.25)
    paper = _paper(s, _c((0.95, 0.92, 0.84)), 0.05)
    edge = np.minimum(np.minimum(s.X, 1 - s.X) * F32(s.ar), np.minimum(s.Y, 1 - s.Y))
    s.paint(paper, 1 - s.aa(edge - F32(0.04)))
    s.finish.grain, s.finish.sharpen = 2.0, 0.0


def _st_poster_2(s: _Scene) -> None:
    lum = np.clip((_luma(s.img) - 0.5) * F32(1.3) + 0.55, 0, 1)
    period = max(4.0, min(s.h, s.w) / 70)
    ang = math.radians(22)
    u = (s.X * F32(s.w * math.cos(ang)) + s.Y * F32(s.h * math.sin(ang))) / F32(period)
    v = (-s.X * F32(s.w * math.sin(ang)) + s.Y * F32(s.h * math.cos(ang))) / F32(period)
    du, dv = u - np.floor(u) - 0.5, v - np.floor(v) - 0.5
    d = np.sqrt(du * du + dv * dv)
    ink1 = np.clip((np.sqrt(np.clip(1 - lum, 0, 1)) * F32(0.58) - d) * F32(period) + 0.5, 0, 1)
    u2 = (s.X * F32(s.w) + s.Y * F32(s.h) * F32(0.3)) / F32(period * 1.4)
    ink2 = np.clip((F32(0.35) - np.abs(u2 - np.floor(u2) - 0.5)) * F32(period), 0, 1)
    ink2 *= _smooth(0.35, 0.75, lum) * (1 - ink1)
    paper = _paper(s, _c((0.96, 0.93, 0.86)), 0.05).copy()
    s.img[:] = paper
    s.paint(_darken(s.p.stops[1], 0.2), ink1)
    s.paint(_mix(s.p.accent, s.p.stops[4], 0.3), ink2 * F32(0.8))
    s.finish.grain, s.finish.sharpen = 1.5, 0.0


def _st_3d(s: _Scene) -> None:
    base = _blur3(s.img, min(s.h, s.w) * 0.006)
    height = _blur(_luma(base), min(s.h, s.w) * 0.016)
    k = F32(min(s.h, s.w) / 12.0)
    nx = -cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3) * k
    ny = -cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3) * k
    inv = 1 / np.sqrt(nx * nx + ny * ny + 1)
    lx, ly, lz = -0.5, -0.6, 0.62
    lam = np.clip((nx * lx + ny * ly + lz) * inv, 0, 1)
    spec = np.power(lam, F32(24)) * F32(0.55)
    s.img[:] = base
    lum = _luma(s.img)
    s.img -= lum[None]
    s.img *= F32(1.25)
    s.img += lum[None]
    s.img *= (F32(0.45) + lam * F32(0.75))[None]
    s.img += spec[None]
    s.finish.grain, s.finish.sharpen = 0.0, 0.15


def _st_80s(s: _Scene) -> None:
    s.img[0, :, 1:] = s.img[0, :, :-1].copy()  # a touch of chromatic aberration
    s.img[2, :, :-1] = s.img[2, :, 1:].copy()
    s.finish.scanlines, s.finish.grain = True, 3.0


def _st_engraving_color(s: _Scene) -> None:
    src = np.clip(s.img, 0, 1)
    lum = _luma(src)
    period = max(3.0, min(s.h, s.w) / 120)
    wob = (s.fbm("engrave", 5.0, 3) - 0.5) * F32(2.2)
    l1 = _hatch(s, 0.55, period, (1 - lum) * F32(0.95), wob)
    l2 = _hatch(s, -0.75, period * 1.1, np.clip((0.5 - lum) * 1.8, 0, 0.9), wob)
    l3 = _hatch(s, 0.0, period * 0.9, np.clip((0.22 - lum) * 3.5, 0, 0.8), wob * 0.5)
    ink = np.maximum(np.maximum(l1, l2), l3)
    lum_c = _luma(src)
    sat = src - lum_c[None]
    ink_col = np.clip(lum_c[None] * 0.45 + sat * 1.4, 0, 1) * F32(0.8)
    paper = _paper(s, _c((0.96, 0.93, 0.84)), 0.04)
    wash = paper * F32(0.72) + src * F32(0.28)
    s.img[:] = wash + (ink_col - wash) * ink[None]
    s.finish.grain, s.finish.sharpen = 0.0, 0.3


def _st_glow(s: _Scene) -> None:
    lum = np.clip(_luma(s.img), 0, 1)
    hi = s.img * _smooth(0.4, 0.9, lum)[None]
    s.img *= F32(0.45)
    s.img += _blur3(hi, min(s.h, s.w) * 0.01) * F32(0.9)
    s.img += _blur3(hi, min(s.h, s.w) * 0.05) * F32(1.1)
    s.finish.grain, s.finish.sharpen = 1.0, 0.2


def _st_grain(s: _Scene) -> None:
    s.img *= F32(0.82)
    s.img += F32(0.09)
    lum = _luma(s.img)
    s.img -= lum[None]
    s.img *= F32(0.8)
    s.img += lum[None]
    s.finish.grain, s.finish.sharpen = 16.0, 0.0


def _sketch_lines(s: _Scene, strength: float) -> np.ndarray:
    lum = _blur(np.clip(_luma(s.img), 0, 1), 1.0)
    gx = cv2.Sobel(lum, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lum, cv2.CV_32F, 0, 1, ksize=3)
    return np.clip(np.sqrt(gx * gx + gy * gy) * F32(strength), 0, 1)


def _st_hand_drawn(s: _Scene) -> None:
    src = np.clip(s.img, 0, 1)
    lines = _sketch_lines(s, min(s.h, s.w) / 45)
    lum = _luma(src)
    wob = (s.fbm("pencil", 8.0, 3) - 0.5) * F32(1.5)
    hatch = _hatch(s, 0.8, max(3.0, min(s.h, s.w) / 90), np.clip((0.55 - lum) * 1.4, 0, 0.7), wob)
    paper = _paper(s, _c((0.97, 0.95, 0.9)), 0.05)
    wash = paper * F32(0.625) + src * F32(0.375)  # a light colour wash on the paper
    graphite = _c((0.22, 0.22, 0.25))
    ink = np.maximum(lines, hatch * F32(0.6))
    s.img[:] = wash + (_col3(graphite) - wash) * ink[None]
    s.finish.grain, s.finish.sharpen = 2.0, 0.2


def _st_hand_drawn_outline(s: _Scene) -> None:
    src = np.clip(s.img, 0, 1)
    amt = min(s.h, s.w) * 0.004
    dx = (s.fbm("wobble-x", 6.0, 2) - 0.5) * F32(amt * 4)
    dy = (s.fbm("wobble-y", 6.0, 2) - 0.5) * F32(amt * 4)
    e = _edges(s, 20, 60, 1.4)
    e = cv2.dilate(e, np.ones((2, 2), np.uint8))
    e = cv2.remap(
        e, (s.X * s.w - 0.5 + dx).astype(F32), (s.Y * s.h - 0.5 + dy).astype(F32), cv2.INTER_LINEAR
    )
    e = np.clip(_blur(e, 0.6) * 1.6, 0, 1)
    paper = _paper(s, _c((0.99, 0.98, 0.96)), 0.02)
    tint = paper + (src - paper) * F32(0.08)
    s.img[:] = tint + (_col3(_c((0.08, 0.08, 0.12))) - tint) * e[None]
    s.finish.grain, s.finish.sharpen = 0.0, 0.3


def _st_handmade_3d(s: _Scene) -> None:
    _posterize(s, 7, 0.8)
    s.img[:] = _blur3(s.img, min(s.h, s.w) * 0.006)
    height = _blur(_luma(s.img), 2.0) + (s.fbm("clay", 26.0, 3) - 0.5) * F32(0.05)
    k = F32(min(s.h, s.w) / 10.0)
    nx = -cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3) * k
    ny = -cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3) * k
    lam = np.clip((nx * -0.55 + ny * -0.55 + 0.63) / np.sqrt(nx * nx + ny * ny + 1), 0, 1)
    s.img *= (F32(0.6) + lam * F32(0.55))[None]
    s.img[0] *= F32(1.06)
    s.img[2] *= F32(0.92)
    s.finish.grain, s.finish.sharpen = 1.0, 0.0


def _st_infantile_sketch(s: _Scene) -> None:
    src = _blur3(np.clip(s.img, 0, 1), min(s.h, s.w) * 0.01)
    lum = _luma(src)
    src -= lum[None]
    src *= F32(1.6)
    src += lum[None]
    s.img[:] = src
    _posterize(s, 3, 1.0)
    e = _edges(s, 30, 80, 2.5)
    crayon = s.fbm("crayon", 40.0, 2, stretch=0.25)
    wax = _smooth(0.35, 0.6, crayon + (s.fbm("crayon-cover", 3.0, 2) - 0.5) * F32(0.6))
    paper = _paper(s, _c((0.98, 0.97, 0.94)), 0.03).copy()
    colour = np.clip(s.img, 0, 1)
    s.img[:] = paper + (colour - paper) * (wax * F32(0.85))[None]
    e = cv2.dilate(e, np.ones((3, 3), np.uint8))
    s.paint(_c((0.15, 0.12, 0.2)), _blur(e, 0.8) * F32(0.8))
    s.finish.grain, s.finish.sharpen, s.finish.upscale = 0.0, 0.0, cv2.INTER_LINEAR


def _st_kawaii(s: _Scene) -> None:
    lum = _luma(s.img)
    s.img -= lum[None]
    s.img *= F32(0.7)
    s.img += lum[None]
    s.paint(_c((1.0, 0.96, 0.98)), np.full((1, 1), 0.38, F32))
    s.add(_c((0.05, -0.02, 0.03)), np.ones((1, 1), F32))
    rng = s.rng("kawaii")
    hearts = s.mask_u8()
    sparks = s.mask_u8()
    for _ in range(int(rng.integers(6, 12))):
        cx, cy = float(rng.random()) * s.w, float(rng.random()) * s.h
        size = float(rng.uniform(0.02, 0.05)) * min(s.w, s.h)
        if rng.random() < 0.5:
            cv2.fillPoly(hearts, [_heart(cx, cy, size)], 255, cv2.LINE_AA, shift=4)
        else:
            cv2.fillPoly(sparks, [_sparkle(cx, cy, size)], 255, cv2.LINE_AA, shift=4)
    s.paint(_c((1.0, 0.55, 0.72)), hearts.astype(F32) * F32(0.9 / 255))
    s.paint(_c((1.0, 1.0, 0.9)), sparks.astype(F32) * F32(0.95 / 255))
    if s.sun is not None:  # the sun gets a face
        cx, cy, r = s.sun
        face = s.mask_u8()
        px, py, pr = cx * s.w, cy * s.h, r * s.h
        for side in (-1, 1):
            c = (round((px + side * pr * 0.35) * 4), round((py - pr * 0.05) * 4))
            cv2.circle(face, c, max(1, round(pr * 0.1 * 4)), 255, -1, cv2.LINE_AA, 2)
        cv2.ellipse(
            face,
            (round(px * 4), round((py + pr * 0.15) * 4)),
            (round(pr * 0.25 * 4), round(pr * 0.18 * 4)),
            0,
            20,
            160,
            255,
            max(1, round(pr * 0.06)),
            cv2.LINE_AA,
            2,
        )
        s.paint(_c((0.35, 0.2, 0.25)), face.astype(F32) * F32(1 / 255))
    s.img[:] = _blur3(s.img, min(s.h, s.w) * 0.002)
    s.finish.grain, s.finish.sharpen = 0.0, 0.1


def _heart(cx: float, cy: float, size: float) -> np.ndarray:
    t = np.linspace(0, 2 * math.pi, 120)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    pts = np.stack([cx + x * size / 16, cy + y * size / 16], 1)
    return np.round(pts * 16).astype(np.int32)


def _sparkle(cx: float, cy: float, size: float) -> np.ndarray:
    pts = []
    for k in range(8):
        r = size if k % 2 == 0 else size * 0.28
        a = math.pi / 4 * k
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return np.round(np.array(pts) * 16).astype(np.int32)


def _st_pixel_art(s: _Scene) -> None:
    lum = _luma(s.img)
    s.img -= lum[None]
    s.img *= F32(1.25)
    s.img += lum[None]
    s.finish.pixel = 1
    s.finish.grain, s.finish.sharpen = 0.0, 0.0


def _st_psychedelic(s: _Scene) -> None:
    lum = np.clip(_luma(s.img), 0, 1)
    rng = s.rng("psy")
    cx, cy = float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.3, 0.7))
    dx, dy = (s.X - F32(cx)) * F32(s.ar), s.Y - F32(cy)
    r = np.sqrt(dx * dx + dy * dy)
    swirl = np.arctan2(dy, dx) / F32(2 * math.pi) + r * F32(3.0) + lum * F32(1.5)
    swirl += s.fbm("psy-warp", 2.0, 3) * F32(1.2)
    tau = F32(2 * math.pi)
    rainbow = np.stack([0.5 + 0.5 * np.cos(tau * (swirl + off)) for off in (0.0, 0.33, 0.67)])
    rings = 0.75 + 0.25 * np.cos(r * F32(60) + lum * F32(8))
    s.img[:] = rainbow * (rings * (0.35 + 0.9 * lum))[None] * F32(1.1) + s.img * F32(0.15)
    s.finish.grain, s.finish.sharpen = 0.0, 0.3


def _st_seamless(s: _Scene) -> None:
    s.finish.seamless = True
    s.finish.grain, s.finish.sharpen = 0.0, 0.2


def _st_voxel(s: _Scene) -> None:
    lum = _luma(s.img)
    s.img -= lum[None]
    s.img *= F32(1.15)
    s.img += lum[None]
    s.finish.voxel = 1
    s.finish.grain, s.finish.sharpen = 0.0, 0.0


def _st_watercolor(s: _Scene) -> None:
    amt = min(s.h, s.w) * 0.01
    dx = (s.fbm("bleed-x", 5.0, 3) - 0.5) * F32(amt * 3)
    dy = (s.fbm("bleed-y", 5.0, 3) - 0.5) * F32(amt * 3)
    hwc = cv2.merge([s.img[0], s.img[1], s.img[2]])
    hwc = cv2.remap(
        hwc,
        (s.X * s.w - 0.5 + dx).astype(F32),
        (s.Y * s.h - 0.5 + dy).astype(F32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    s.img[:] = np.moveaxis(hwc, -1, 0)
    s.img[:] = _blur3(s.img, min(s.h, s.w) * 0.008)
    _posterize(s, 6, 0.35)
    s.img[:] = _blur3(s.img, min(s.h, s.w) * 0.003)
    # Pigment pools at the edges of washes: darken where the blurred image changes.
    lum = _luma(s.img)
    dog = np.abs(lum - _blur(lum, min(s.h, s.w) * 0.01))
    s.img *= (1 - np.clip(dog * 4, 0, 0.35))[None]
    paper = _paper(s, _c((0.98, 0.96, 0.92)), 0.06)
    s.img[:] = paper * (F32(0.3) + s.img * F32(0.75))  # glaze: pigment multiplies the paper
    s.finish.grain, s.finish.sharpen, s.finish.upscale = 0.0, 0.0, cv2.INTER_LINEAR


_STYLES: dict[str, Callable[[_Scene], None]] = {
    "realistic_image": _st_realistic,
    "realistic_image/b_and_w": _st_b_and_w,
    "realistic_image/enterprise": _st_enterprise,
    "realistic_image/hard_flash": _st_hard_flash,
    "realistic_image/hdr": _st_hdr,
    "realistic_image/motion_blur": _st_motion_blur,
    "realistic_image/natural_light": _st_natural_light,
    "realistic_image/studio_portrait": _st_studio_portrait,
    "digital_illustration": _st_digital_illustration,
    "digital_illustration/2d_art_poster": _st_poster,
    "digital_illustration/2d_art_poster_2": _st_poster_2,
    "digital_illustration/3d": _st_3d,
    "digital_illustration/80s": _st_80s,
    "digital_illustration/engraving_color": _st_engraving_color,
    "digital_illustration/glow": _st_glow,
    "digital_illustration/grain": _st_grain,
    "digital_illustration/hand_drawn": _st_hand_drawn,
    "digital_illustration/hand_drawn_outline": _st_hand_drawn_outline,
    "digital_illustration/handmade_3d": _st_handmade_3d,
    "digital_illustration/infantile_sketch": _st_infantile_sketch,
    "digital_illustration/kawaii": _st_kawaii,
    "digital_illustration/pixel_art": _st_pixel_art,
    "digital_illustration/psychedelic": _st_psychedelic,
    "digital_illustration/seamless": _st_seamless,
    "digital_illustration/voxel": _st_voxel,
    "digital_illustration/watercolor": _st_watercolor,
}


# --------------------------------------------------------------------------- finishing


def _to_u8(img: np.ndarray) -> np.ndarray:
    np.clip(img, 0.0, 1.0, out=img)
    return cv2.convertScaleAbs(cv2.merge([img[0], img[1], img[2]]), alpha=255.0)


def _grain(full: np.ndarray, amount: float, key: bytes) -> None:
    """Add a tiled, luminance-only film grain in place (saturating uint8 maths)."""
    h, w = full.shape[:2]
    scale = max(1, round(min(h, w) / 1024))
    tile = _rng(key, "grain").standard_normal((256, 256), dtype=F32) * F32(amount)
    if scale > 1:  # grain clumps grow a little with the print size
        tile = cv2.resize(tile, (256 * scale, 256 * scale), interpolation=cv2.INTER_LINEAR) * F32(
            1.3
        )
    th, tw = tile.shape
    pos = np.clip(tile, 0, 255).astype(np.uint8)[:, :, None].repeat(3, axis=2)
    neg = np.clip(-tile, 0, 255).astype(np.uint8)[:, :, None].repeat(3, axis=2)
    # Tile by views: no full-size grain array is ever built.
    for y in range(0, h, th):
        for x in range(0, w, tw):
            view = full[y : y + th, x : x + tw]
            vh, vw = view.shape[:2]
            cv2.add(view, pos[:vh, :vw], dst=view)
            cv2.subtract(view, neg[:vh, :vw], dst=view)


def _draw_stars(s: _Scene, full: np.ndarray) -> None:
    if s.stars is None:
        return
    xs, ys, mag, tint = s.stars
    h, w = full.shape[:2]
    ix = np.clip((xs * s.w).astype(np.intp), 0, s.w - 1)
    iy = np.clip((ys * s.h).astype(np.intp), 0, s.h - 1)
    lum = np.clip(_luma(s.img), 0, 1)
    vis = s.open_sky[iy, ix] * np.clip((0.5 - lum[iy, ix]) / 0.35, 0, 1)
    alpha = vis * (0.3 + 0.7 * mag)
    scale = min(w, h) / 1024
    palette = (np.array([255, 250, 240]), np.array([200, 215, 255]), np.array([255, 225, 190]))
    for x, y, m, t, a in zip(xs, ys, mag, tint, alpha, strict=True):
        if a < 0.04:
            continue
        px, py = min(w - 1, int(x * w)), min(h - 1, int(y * h))
        star = palette[0 if t < 0.6 else 1 if t < 0.85 else 2]
        base = full[py, px].astype(np.float64)
        centre = (round(x * w * 16), round(y * h * 16))
        if m > 0.55:  # bright stars get a soft halo
            halo = base + (star - base) * a * 0.22
            r = round((2.5 + 5 * m) * scale * 16)
            cv2.circle(full, centre, max(r, 8), tuple(int(v) for v in halo), -1, cv2.LINE_AA, 4)
        col = base + (star - base) * a
        r = round((0.55 + 1.6 * m) * scale * 16)
        cv2.circle(full, centre, max(r, 6), tuple(int(v) for v in col), -1, cv2.LINE_AA, 4)


def _make_seamless(full: np.ndarray) -> np.ndarray:
    """Cross-fade with half-period shifted copies so opposite edges continue each other."""
    h, w = full.shape[:2]
    wx = (0.5 - 0.5 * np.cos(2 * np.pi * (np.arange(w) + 0.5) / w)).astype(F32)
    wy = (0.5 - 0.5 * np.cos(2 * np.pi * (np.arange(h) + 0.5) / h)).astype(F32)
    ax = np.ascontiguousarray(np.broadcast_to(wx[None, :], (h, w)))
    ay = np.ascontiguousarray(np.broadcast_to(wy[:, None], (h, w)))
    b = cv2.blendLinear(full, np.roll(full, w // 2, axis=1), ax, 1 - ax)
    return cv2.blendLinear(b, np.roll(b, h // 2, axis=0), ay, 1 - ay)


_BAYER4 = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], F32) / 16


def _blocks(u8: np.ndarray, width: int, height: int, voxel: bool) -> np.ndarray:
    """Pixel-art or voxel rendering: whole blocks of one colour, aligned to (0, 0)."""
    short = min(width, height)
    if voxel:
        block = max(10, round(short / 40))
        block -= block % 5
        sub = 5
    else:
        block = max(4, round(short / 72))
        sub = 1
    nbx, nby = -(-width // block), -(-height // block)
    small = cv2.resize(u8, (nbx, nby), interpolation=cv2.INTER_AREA).astype(F32) / 255
    if voxel:
        levels = 7
        q = np.round(small * levels) / levels
        cells = np.repeat(np.repeat(q, sub, axis=0), sub, axis=1)
        bevel = np.ones((sub, sub), F32)
        bevel[:, 0] = 1.1
        bevel[:, -1] = 0.78
        bevel[0, :] = 1.28
        bevel[-1, :] = 0.62
        cells *= np.tile(bevel, (nby, nbx))[:, :, None]
        scale = block // sub
    else:
        levels = 6
        dither = np.tile(_BAYER4, (-(-nby // 4), -(-nbx // 4)))[:nby, :nbx, None]
        cells = np.floor(small * levels + dither * F32(0.6) + F32(0.2)) / levels
        scale = block
    cells8 = np.clip(cells * 255 + 0.5, 0, 255).astype(np.uint8)
    big = np.repeat(np.repeat(cells8, scale, axis=0), scale, axis=1)
    return np.ascontiguousarray(big[:height, :width])


def _finish(s: _Scene, width: int, height: int) -> np.ndarray:
    f = s.finish
    u8 = _to_u8(s.img)
    if f.pixel or f.voxel:
        full = _blocks(u8, width, height, voxel=bool(f.voxel))
        if f.greyscale:
            full = cv2.cvtColor(cv2.cvtColor(full, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        return full
    full = cv2.resize(u8, (width, height), interpolation=f.upscale)
    short = min(width, height)
    if f.sharpen > 0:
        blur = cv2.GaussianBlur(full, (0, 0), max(0.8, 1.1 * short / 1024))
        full = cv2.addWeighted(full, 1 + f.sharpen, blur, -f.sharpen, 0)
    _draw_stars(s, full)
    if f.grain > 0:
        _grain(full, f.grain, s.key)
    if f.scanlines:
        rows = np.ascontiguousarray(full[1::3])
        full[1::3] = cv2.convertScaleAbs(rows, alpha=0.72)
    if f.seamless:
        full = _make_seamless(full)
    if f.letterbox:
        frac = min(0.125, max(0.05, (1 - (width / height) / 2.39) / 2))
        bar = max(1, round(height * frac))
        full[:bar] = 0
        full[height - bar :] = 0
    if f.greyscale:
        full = cv2.cvtColor(cv2.cvtColor(full, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return full


# --------------------------------------------------------------------------- emoji

_EXPRESSIONS: dict[str, tuple[str, ...]] = {
    "laugh": ("laugh", "laughing", "lol", "grin", "grinning", "excited", "joy", "haha"),
    "sad": ("sad", "cry", "crying", "tear", "tears", "unhappy", "upset", "sob"),
    "angry": ("angry", "mad", "rage", "furious", "grumpy", "annoyed"),
    "love": ("love", "loving", "adore", "romantic", "crush", "hearts"),
    "cool": ("cool", "sunglasses", "chill", "swag", "shades"),
    "surprised": ("surprised", "shocked", "wow", "amazed", "omg", "astonished", "shock"),
    "wink": ("wink", "winking", "flirty", "cheeky"),
    "sleepy": ("sleepy", "tired", "sleeping", "sleep", "bored", "yawn"),
    "kiss": ("kiss", "kissing", "smooch"),
    "smile": ("smile", "smiling", "happy", "glad", "cheerful", "smiley"),
}
_EMOJI_INK = (0.36, 0.22, 0.12)


def _emoji_expression(words: tuple[str, ...], rng: np.random.Generator) -> str:
    for name, vocab in _EXPRESSIONS.items():
        if any(w in vocab for w in words):
            return name
    return str(rng.choice(["smile", "laugh", "wink", "cool", "love", "surprised"]))


def _render_emoji(traits: PromptTraits, key: bytes, width: int, height: int) -> Image.Image:
    """An Apple-style glossy emoji on a transparent background (RGBA)."""
    scale = max(1.0, math.sqrt(width * height / _WORK_AREA))
    w, h = max(32, round(width / scale)), max(32, round(height / scale))
    rng = _rng(key, "emoji")
    words = traits.words
    u = min(w, h)
    cx, cy = w / 2, h / 2 - u * 0.01
    radius = u * float(rng.uniform(0.39, 0.42))
    ys = (np.arange(h, dtype=F32) + 0.5)[:, None]
    xs = (np.arange(w, dtype=F32) + 0.5)[None, :]

    is_face = any(x in words for x in ("face", "eyes", "smiley", "emoji", "eye"))
    obj = "face"
    if "heart" in words and not is_face:
        obj = "heart"
    elif any(x in words for x in ("star", "stars")) and not is_face:
        obj = "star"
    elif any(x in words for x in ("cat", "kitty", "kitten")):
        obj = "cat"
    elif any(x in words for x in ("sun", "sunny", "sunshine")):
        obj = "sun"
    expression = _emoji_expression(words, rng)
    if obj == "star" and expression == "cool":
        expression = "smile"  # sunglasses do not fit on a star's small face

    if traits.colours:
        base = _c(tuple(v / 255 for v in traits.colours[0][1]))
    elif obj == "heart":
        base = _c("#ff3b5c")
    elif expression == "angry":
        base = _c("#ff7a3d")
    elif obj == "cat":
        base = _c("#ffb347")
    else:
        base = _c("#ffcf3a")
    base = _hue_shift(base, float(rng.uniform(-0.015, 0.015)))
    top, bottom = _lighten(base, 0.35), _darken(_hue_shift(base, -0.03), 0.12)
    rim = _darken(_hue_shift(base, -0.05), 0.3)

    def mask_of(draw: Callable[[np.ndarray], None]) -> np.ndarray:
        m = np.zeros((h, w), np.uint8)
        draw(m)
        return m.astype(F32) * F32(1 / 255)

    def p16(x: float, y: float) -> tuple[int, int]:
        return (round(x * 16), round(y * 16))

    def r16(v: float) -> int:
        return max(1, round(v * 16))

    # Body silhouette.
    if obj == "heart":
        body = mask_of(
            lambda m: cv2.fillPoly(
                m, [_heart(cx, cy + radius * 0.05, radius * 1.0)], 255, cv2.LINE_AA, 4
            )
        )
    elif obj == "star":
        pts = []
        for k in range(10):
            r = radius * (1.05 if k % 2 == 0 else 0.45)
            a = -math.pi / 2 + math.pi / 5 * k
            pts.append((cx + r * math.cos(a), cy + radius * 0.06 + r * math.sin(a)))
        star = np.round(np.array(pts) * 16).astype(np.int32)
        body = mask_of(lambda m: cv2.fillPoly(m, [star], 255, cv2.LINE_AA, 4))
        body = np.clip(_blur(body, radius * 0.03) * 1.3, 0, 1)  # soften the points a little
    else:
        d = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2)
        body = np.clip((F32(radius) - d) + 0.5, 0, 1)
        if obj == "cat":
            ears = []
            for side in (-1, 1):
                ears.append(
                    np.array(
                        [
                            p16(cx + side * radius * 0.95, cy - radius * 0.25),
                            p16(cx + side * radius * 0.75, cy - radius * 1.12),
                            p16(cx + side * radius * 0.2, cy - radius * 0.85),
                        ],
                        np.int32,
                    )
                )
            body = np.maximum(body, mask_of(lambda m: cv2.fillPoly(m, ears, 255, cv2.LINE_AA, 4)))
        if obj == "sun":
            rays = []
            for k in range(12):
                a = 2 * math.pi * k / 12
                tip = (cx + math.cos(a) * radius * 1.18, cy + math.sin(a) * radius * 1.18)
                l1 = (
                    cx + math.cos(a - 0.13) * radius * 0.9,
                    cy + math.sin(a - 0.13) * radius * 0.9,
                )
                l2 = (
                    cx + math.cos(a + 0.13) * radius * 0.9,
                    cy + math.sin(a + 0.13) * radius * 0.9,
                )
                rays.append(np.array([p16(*tip), p16(*l1), p16(*l2)], np.int32))
            body = np.maximum(body, mask_of(lambda m: cv2.fillPoly(m, rays, 255, cv2.LINE_AA, 4)))

    # Shading: vertical gradient, darker rim, glossy highlight near the top.
    t = np.clip((ys - (cy - radius)) / (2 * radius), 0, 1)
    col = np.empty((3, h, w), F32)
    np.multiply(_col3(bottom - top), t * np.ones((1, w), F32), out=col)
    col += _col3(top)
    edge = _smooth(0.0, radius * 0.25, _blur(body, radius * 0.08) * radius * 0.6)
    col += (_col3(rim) - col) * ((1 - edge) * F32(0.55))[None]
    hl = np.sqrt(
        ((xs - cx) / (radius * 0.55)) ** 2 + ((ys - (cy - radius * 0.58)) / (radius * 0.28)) ** 2
    )
    col += (1 - col) * (_smooth(1.0, 0.2, hl) * F32(0.45) * body)[None]

    def paint(colour: Colour, m: np.ndarray) -> None:
        col[:] += (_col3(colour) - col) * m[None]

    ink = _c(_EMOJI_INK)
    ex, ey = radius * 0.33, cy - radius * 0.15
    eye_w, eye_h = radius * float(rng.uniform(0.08, 0.1)), radius * float(rng.uniform(0.14, 0.17))
    mouth_w = radius * float(rng.uniform(0.4, 0.5))
    thick = max(1, round(radius * 0.065))

    if obj in ("face", "cat", "sun", "star"):
        f = 0.6 if obj == "star" else 1.0
        eye_w, eye_h, mouth_w = eye_w * f, eye_h * f, mouth_w * f
        if obj == "star":
            ex, ey = radius * 0.2, cy
        mouth_y = ey + radius * (0.42 if obj != "star" else 0.22)

        def open_eyes(m: np.ndarray, big: float = 1.0) -> None:
            for side in (-1, 1):
                cv2.ellipse(
                    m,
                    p16(cx + side * ex, ey),
                    (r16(eye_w * big), r16(eye_h * big)),
                    0,
                    0,
                    360,
                    255,
                    -1,
                    cv2.LINE_AA,
                    4,
                )

        def arc_eyes(m: np.ndarray, up: bool) -> None:
            for side in (-1, 1):
                a0, a1 = (200, 340) if up else (20, 160)
                cv2.ellipse(
                    m,
                    p16(cx + side * ex, ey + (eye_h * 0.3 if up else -eye_h * 0.3)),
                    (r16(eye_w * 1.6), r16(eye_h * 0.7)),
                    0,
                    a0,
                    a1,
                    255,
                    thick,
                    cv2.LINE_AA,
                    4,
                )

        def smile(m: np.ndarray, width: float = 1.0, curve: float = 0.55) -> None:
            cv2.ellipse(
                m,
                p16(cx, mouth_y - radius * 0.12),
                (r16(mouth_w * width), r16(mouth_w * curve)),
                0,
                15,
                165,
                255,
                thick,
                cv2.LINE_AA,
                4,
            )

        if expression in ("smile", "love", "kiss", "wink", "laugh"):
            cheeks = np.zeros((h, w), F32)
            for side in (-1, 1):
                dd = np.sqrt(
                    ((xs - (cx + side * radius * 0.55)) / (radius * 0.17)) ** 2
                    + ((ys - (ey + radius * 0.3)) / (radius * 0.1)) ** 2
                )
                cheeks = np.maximum(cheeks, _smooth(1.0, 0.0, dd))
            paint(_c("#ff6f7d"), cheeks * F32(0.45))
        if expression == "smile":
            paint(ink, mask_of(open_eyes))
            paint(ink, mask_of(smile))
        elif expression == "laugh":
            paint(ink, mask_of(lambda m: arc_eyes(m, True)))
            mouth = mask_of(
                lambda m: cv2.ellipse(
                    m,
                    p16(cx, mouth_y - radius * 0.1),
                    (r16(mouth_w), r16(mouth_w * 0.75)),
                    0,
                    0,
                    180,
                    255,
                    -1,
                    cv2.LINE_AA,
                    4,
                )
            )
            paint(_c("#5a1f1f"), mouth)
            teeth = mouth * (ys < mouth_y - radius * 0.1 + radius * 0.14)
            paint(_c("#ffffff"), teeth)
            tongue = mouth * _smooth(
                1.0,
                0.8,
                np.sqrt(
                    ((xs - cx) / (mouth_w * 0.55)) ** 2
                    + ((ys - (mouth_y + radius * 0.32)) / (radius * 0.18)) ** 2
                ),
            )
            paint(_c("#ff5f7a"), tongue)
        elif expression == "sad":
            paint(ink, mask_of(open_eyes))
            paint(
                ink,
                mask_of(
                    lambda m: cv2.ellipse(
                        m,
                        p16(cx, mouth_y + radius * 0.2),
                        (r16(mouth_w * 0.8), r16(mouth_w * 0.4)),
                        0,
                        200,
                        340,
                        255,
                        thick,
                        cv2.LINE_AA,
                        4,
                    )
                ),
            )
            drop = np.array(
                [
                    p16(cx + ex, ey + eye_h * 1.1),
                    p16(cx + ex - radius * 0.07, ey + radius * 0.42),
                    p16(cx + ex + radius * 0.07, ey + radius * 0.42),
                ],
                np.int32,
            )
            tear = mask_of(
                lambda m: (
                    cv2.fillPoly(m, [drop], 255, cv2.LINE_AA, 4),
                    cv2.circle(
                        m,
                        p16(cx + ex, ey + radius * 0.43),
                        r16(radius * 0.075),
                        255,
                        -1,
                        cv2.LINE_AA,
                        4,
                    ),
                )
            )
            paint(_c("#4fb3ff"), tear)
        elif expression == "angry":
            paint(ink, mask_of(open_eyes))
            for side in (-1, 1):
                paint(
                    ink,
                    mask_of(
                        lambda m, sd=side: cv2.line(
                            m,
                            p16(cx + sd * ex * 1.5, ey - eye_h * 1.5),
                            p16(cx + sd * ex * 0.35, ey - eye_h * 0.9),
                            255,
                            thick,
                            cv2.LINE_AA,
                            4,
                        )
                    ),
                )
            paint(
                ink,
                mask_of(
                    lambda m: cv2.ellipse(
                        m,
                        p16(cx, mouth_y + radius * 0.15),
                        (r16(mouth_w * 0.6), r16(mouth_w * 0.25)),
                        0,
                        200,
                        340,
                        255,
                        thick,
                        cv2.LINE_AA,
                        4,
                    )
                ),
            )
        elif expression == "love":
            hearts = mask_of(
                lambda m: cv2.fillPoly(
                    m,
                    [_heart(cx - ex, ey, eye_h * 1.7), _heart(cx + ex, ey, eye_h * 1.7)],
                    255,
                    cv2.LINE_AA,
                    4,
                )
            )
            paint(_c("#f0304f"), hearts)
            paint(ink, mask_of(smile))
        elif expression == "cool":
            lens = mask_of(
                lambda m: (
                    [
                        cv2.ellipse(
                            m,
                            p16(cx + sd * ex * 1.05, ey),
                            (r16(radius * 0.27), r16(radius * 0.19)),
                            0,
                            0,
                            360,
                            255,
                            -1,
                            cv2.LINE_AA,
                            4,
                        )
                        for sd in (-1, 1)
                    ]
                    + [
                        cv2.line(
                            m,
                            p16(cx - ex, ey - radius * 0.08),
                            p16(cx + ex, ey - radius * 0.08),
                            255,
                            thick,
                            cv2.LINE_AA,
                            4,
                        )
                    ]
                )
            )
            paint(_c("#161616"), lens)
            glint = lens * _smooth(
                1.0, 0.3, np.abs((xs - cx) * 0.4 + (ys - ey) * 1.2 + radius * 0.1) / (radius * 0.08)
            )
            paint(_c("#6f6f6f"), glint * F32(0.6))
            paint(ink, mask_of(lambda m: smile(m, 0.8, 0.35)))
        elif expression == "surprised":
            paint(ink, mask_of(lambda m: open_eyes(m, 1.2)))
            paint(
                _c("#4a1a10"),
                mask_of(
                    lambda m: cv2.ellipse(
                        m,
                        p16(cx, mouth_y + radius * 0.05),
                        (r16(radius * 0.15), r16(radius * 0.2)),
                        0,
                        0,
                        360,
                        255,
                        -1,
                        cv2.LINE_AA,
                        4,
                    )
                ),
            )
        elif expression == "wink":
            paint(
                ink,
                mask_of(
                    lambda m: cv2.ellipse(
                        m,
                        p16(cx - ex, ey),
                        (r16(eye_w), r16(eye_h)),
                        0,
                        0,
                        360,
                        255,
                        -1,
                        cv2.LINE_AA,
                        4,
                    )
                ),
            )
            paint(
                ink,
                mask_of(
                    lambda m: cv2.ellipse(
                        m,
                        p16(cx + ex, ey + eye_h * 0.3),
                        (r16(eye_w * 1.6), r16(eye_h * 0.7)),
                        0,
                        200,
                        340,
                        255,
                        thick,
                        cv2.LINE_AA,
                        4,
                    )
                ),
            )
            paint(ink, mask_of(smile))
            paint(
                _c("#ff5f7a"),
                mask_of(
                    lambda m: cv2.ellipse(
                        m,
                        p16(cx + mouth_w * 0.3, mouth_y + radius * 0.02),
                        (r16(radius * 0.1), r16(radius * 0.12)),
                        0,
                        0,
                        180,
                        255,
                        -1,
                        cv2.LINE_AA,
                        4,
                    )
                ),
            )
        elif expression == "sleepy":
            paint(ink, mask_of(lambda m: arc_eyes(m, False)))
            paint(
                ink,
                mask_of(
                    lambda m: cv2.ellipse(
                        m,
                        p16(cx, mouth_y + radius * 0.05),
                        (r16(radius * 0.08), r16(radius * 0.1)),
                        0,
                        0,
                        360,
                        255,
                        thick,
                        cv2.LINE_AA,
                        4,
                    )
                ),
            )
        else:  # kiss
            paint(ink, mask_of(lambda m: arc_eyes(m, False)))
            paint(
                ink,
                mask_of(
                    lambda m: [
                        cv2.ellipse(
                            m,
                            p16(cx + radius * 0.02, mouth_y + dy),
                            (r16(radius * 0.08), r16(radius * 0.06)),
                            0,
                            270,
                            450,
                            255,
                            thick,
                            cv2.LINE_AA,
                            4,
                        )
                        for dy in (-radius * 0.06, radius * 0.06)
                    ]
                ),
            )
            paint(
                _c("#f0304f"),
                mask_of(
                    lambda m: cv2.fillPoly(
                        m,
                        [_heart(cx + radius * 0.45, mouth_y - radius * 0.05, radius * 0.12)],
                        255,
                        cv2.LINE_AA,
                        4,
                    )
                ),
            )
        if obj == "cat":
            paint(
                _c("#ff8fa3"),
                mask_of(
                    lambda m: cv2.fillPoly(
                        m,
                        [
                            np.array(
                                [
                                    p16(cx - radius * 0.07, ey + radius * 0.22),
                                    p16(cx + radius * 0.07, ey + radius * 0.22),
                                    p16(cx, ey + radius * 0.3),
                                ],
                                np.int32,
                            )
                        ],
                        255,
                        cv2.LINE_AA,
                        4,
                    )
                ),
            )
            paint(
                ink,
                mask_of(
                    lambda m: [
                        cv2.line(
                            m,
                            p16(cx + sd * radius * 0.25, ey + radius * (0.3 + k * 0.08)),
                            p16(cx + sd * radius * 0.85, ey + radius * (0.22 + k * 0.16)),
                            255,
                            max(1, thick // 2),
                            cv2.LINE_AA,
                            4,
                        )
                        for sd in (-1, 1)
                        for k in (0, 1)
                    ]
                )
                * F32(0.8),
            )
    # Soft contact shadow, kept well inside the canvas so the corners stay transparent.
    sd = np.sqrt(
        ((xs - cx) / (radius * 0.75)) ** 2 + ((ys - (cy + radius * 1.02)) / (radius * 0.09)) ** 2
    )
    shadow = _smooth(1.0, 0.0, sd) * F32(0.28)
    alpha = body + shadow * (1 - body)
    safe = np.maximum(alpha, 1e-6)
    col = (col * body[None] + F32(0.1) * (shadow * (1 - body))[None]) / safe[None]
    col = np.where(alpha[None] > 1e-4, col, _col3(rim))  # transparent pixels keep the rim colour
    rgba = np.concatenate([np.clip(col, 0, 1), alpha[None]], 0)
    u8 = cv2.convertScaleAbs(cv2.merge([rgba[0], rgba[1], rgba[2], rgba[3]]), alpha=255.0)
    full = cv2.resize(u8, (width, height), interpolation=cv2.INTER_LINEAR)
    if full.ndim == 2:
        full = full[:, :, None]
    return Image.fromarray(np.ascontiguousarray(full))


# --------------------------------------------------------------------------- public API


def _content(traits: PromptTraits) -> str:
    """Prompt words that shape the layout (colour and mood words only tint it)."""
    skip = set(COLOUR_WORDS) | set(COLOUR_MODIFIERS) | set(MOOD_WORDS)
    return " ".join(w for w in traits.words if w not in skip and w.removesuffix("s") not in skip)


def render_image(endpoint: str, params: dict, size: tuple[int, int]) -> Image.Image:
    """Render ``endpoint``'s image for the validated ``params`` at exactly ``size`` (w, h).

    RGB for every model except ``sdxl/emoji``, which returns RGBA on transparency.
    """
    width, height = int(size[0]), int(size[1])
    if width < 1 or height < 1:
        raise ValueError(f"invalid size {size!r}")
    prompt = str(params.get("prompt") or "")
    traits = analyse_prompt(prompt, str(params.get("negative_prompt") or ""))
    seed = int(params.get("seed") or 0)
    model = str(params.get("model") or _DEFAULT_MODELS.get(endpoint, "")).lower()
    key = _digest("openjourney-render/1", endpoint, seed, model, _content(traits))
    if endpoint == "sdxl/emoji":
        return _render_emoji(traits, key, width, height)

    guidance = params.get("guidance")
    guidance = min(20.0, max(1.0, float(guidance))) if guidance is not None else 7.5
    look = _resolve_look(endpoint, params, traits)
    style = None
    if endpoint == "re-craft/generative":
        style = str(params.get("style") or "realistic_image")
        style = style if style in _STYLES else "realistic_image"
    sched = _scheduler(params.get("scheduler"))

    scale = max(1.0, math.sqrt(width * height / _WORK_AREA)) * look.coarse
    ww, wh = max(16, round(width / scale)), max(16, round(height / scale))
    scene = traits.scenes[0] if traits.scenes else None
    if scene is None and "stars" in traits.subjects:
        scene = "night"
    if style == "digital_illustration/80s":
        scene = "neon"
    weight = min(0.95, max(0.3, 0.35 + 0.06 * guidance))
    palette, scene = _build_palette(traits, _rng(key, "palette"), scene, weight)
    s = _Scene(wh, ww, key, traits, palette, look, sched, guidance)
    s.scene = scene
    s.finish.upscale = look.upscale
    _compose(s, style)
    _detail(s)
    _grade(s)
    for name in look.effects:
        _EFFECTS[name](s)
    if style is not None:
        _STYLES[style](s)
    _suppress(s)
    return Image.fromarray(_finish(s, width, height))


def encode_png(image: Image.Image, text: dict[str, str] | None = None) -> bytes:
    """PNG bytes (zlib level 1: fast and deterministic), with optional tEXt/iTXt chunks."""
    info = None
    if text:
        info = PngInfo()
        for k, v in text.items():
            info.add_text(str(k), str(v))  # falls back to iTXt for non-Latin-1 values
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1, pnginfo=info)
    return buf.getvalue()
