"""Colours and palettes: colour helpers, each scene's lighting palette, jittered by the seed
and pulled toward the prompt's colours.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from engine.render.prompt import (
    PromptTraits,
)
from engine.render.text_to_image.noise import F32

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
