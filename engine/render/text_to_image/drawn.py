"""The prompt's subjects drawn into the scene: the library's drawings
(:mod:`engine.render.drawings`), placed by kind, scaled by distance, grounded by a shadow or
a reflection, tinted by a bound colour, lit by the scene and hazier far away; and the two
scenes only subjects call for (a still life on a table, the underwater world), and the
weather words (falling snow, rain).

Placement is greedy and seeded: each instance, the main subject's first, tries a dozen
positions drawn from the ``subjects`` stream and keeps the one that overlaps least with
those already placed (and, for the main subject, stays nearest the middle). So the same
request places them the same way, and another seed elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from engine.render.drawings import raster
from engine.render.subject_words import Subject
from engine.render.text_to_image.noise import F32, _blur, _smooth
from engine.render.text_to_image.palettes import _c, _col3, _darken, _lighten, _mix
from engine.render.text_to_image.scene import _Scene

_MAX_INSTANCES = 8
_SHADOWED = ("ground", "building", "object")


@dataclass
class _Placed:
    sub: Subject
    x: float  # centre, share of the width
    foot: float  # bottom (ground, water, objects) or centre (sky, underwater), share of height
    height: float  # share of the height
    z: float  # 0 near .. 1 far
    flip: bool
    box: tuple[float, float, float, float] = (0, 0, 0, 0)  # x0, y0, x1, y1 in height units


def _aspect(sub: Subject) -> float:
    a = raster(sub.drawing.code, 96)
    return a.shape[1] / max(1, a.shape[0])


def _candidate(s: _Scene, kind: str, z: float, v: float, size: float) -> tuple[float, float]:
    """(foot or centre, height) of a subject of that kind at depth z (v: a free draw)."""
    size *= 0.9 + 0.2 * v  # a little variety in scale
    hz = s.hz
    if kind == "sky":
        return hz * (0.22 + 0.5 * z), size * (1.0 - 0.45 * z)
    if kind == "underwater":
        return 0.28 + 0.44 * v, size * (1.0 - 0.5 * z)
    if kind == "object":
        foot = 0.8 + 0.12 * (1 - z)
        return foot, size * (0.75 + 0.25 * (1 - z))
    ground = s.ground_top if s.ground_top is not None else hz
    lo, hi = ground + 0.06, 0.97
    if kind == "water":
        lo, hi = hz + 0.06, 0.9
    foot = hi - (hi - lo) * z
    persp = (foot - hz) / max(0.97 - hz, 0.05)
    return foot, size * (0.35 + 0.65 * persp)


def _plan(s: _Scene, subjects: tuple[Subject, ...]) -> list[_Placed]:
    rng = s.rng("subjects")
    instances = [(sub, k) for sub in subjects for k in range(sub.count)][:_MAX_INSTANCES]
    crowd = len(instances)
    shrink = 1.0 / math.sqrt(max(1.0, crowd * 0.7))
    placed: list[_Placed] = []
    for n, (sub, _k) in enumerate(instances):
        kind = sub.drawing.kind
        size = sub.drawing.size * (1.0 if n == 0 else 0.85) * shrink
        if kind == "object" and crowd > 1:
            size *= 0.85
        aspect = _aspect(sub)
        best, best_cost = None, math.inf
        for _ in range(12):
            x = float(rng.uniform(0.3, 0.7) if n == 0 else rng.uniform(0.12, 0.88))
            z = float(rng.uniform(0.0, 0.25 if n == 0 else 0.85))
            flip = bool(rng.random() < 0.5)
            foot, height = _candidate(s, kind, z, float(rng.random()), size)
            height = min(height, 0.8, 0.9 * s.ar / aspect)  # never wider than the canvas
            half = height * aspect / 2 / s.ar  # half width, share of the width
            x = min(max(x, half + 0.02), 1 - half - 0.02)
            centred = kind in ("sky", "underwater")
            top = foot - height / 2 if centred else foot - height
            box = ((x - half) * s.ar, top, (x + half) * s.ar, top + height)
            cost = sum(_overlap(box, q.box) for q in placed)
            if cost < best_cost:
                best_cost = cost
                best = _Placed(sub, x, foot, height, z if n else min(z, 0.2), flip, box)
        assert best is not None
        placed.append(best)
    placed.sort(key=lambda q: (q.sub.drawing.kind != "sky", q.foot))  # far (higher) first
    return placed


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    area = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / max(area, 1e-6)


def _tint(rgb: np.ndarray, target: tuple[int, int, int]) -> None:
    """Recolour the drawing's coloured areas to ``target``; its ink and whites stay."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    t = np.array(target, np.float32).reshape(1, 1, 3) / 255
    th, ts, tv = cv2.cvtColor(t, cv2.COLOR_RGB2HSV)[0, 0]
    sat, val = hsv[:, :, 1], hsv[:, :, 2]
    coloured = _smooth(0.12, 0.3, sat) * _smooth(0.12, 0.3, val)
    new = hsv.copy()
    if ts < 0.15:  # white, grey, black: keep the shading, take the value
        new[:, :, 1] = sat * 0.12
        new[:, :, 2] = np.clip(val * (0.35 + tv * 0.75) + tv * 0.25, 0, 1)
    else:
        new[:, :, 0] = th
        new[:, :, 1] = np.clip(ts * (0.6 + 0.4 * sat), 0, 1)
        new[:, :, 2] = np.clip(val * (0.55 + 0.45 * tv / max(val.max(), 1e-3)) + 0.1 * tv, 0, 1)
    out = cv2.cvtColor(new, cv2.COLOR_HSV2RGB)
    rgb += (out - rgb) * coloured[:, :, None]


def _paste(s: _Scene, rgba: np.ndarray, x0: int, y0: int, colour: np.ndarray | None = None) -> None:
    """Alpha-composite an (h, w, 4) drawing (or a flat colour in its shape) at (x0, y0)."""
    h, w = rgba.shape[:2]
    ax0, ay0 = max(0, x0), max(0, y0)
    ax1, ay1 = min(s.w, x0 + w), min(s.h, y0 + h)
    if ax1 <= ax0 or ay1 <= ay0:
        return
    part = rgba[ay0 - y0 : ay1 - y0, ax0 - x0 : ax1 - x0]
    alpha = part[:, :, 3]
    region = s.img[:, ay0:ay1, ax0:ax1]
    src = part[:, :, :3].transpose(2, 0, 1) if colour is None else colour[:, None, None]
    region += (src - region) * alpha[None]
    s.open_sky[ay0:ay1, ax0:ax1] *= 1 - alpha


def _shadow(s: _Scene, q: _Placed, w_px: int) -> None:
    cx, cy = q.x * s.w, q.foot * s.h
    rx, ry = max(2.0, w_px * 0.5), max(1.5, w_px * 0.09)
    if s.sun is not None:  # the shadow falls away from the light
        cx += (q.x - s.sun[0]) * w_px * 0.35
    sigma = max(1.0, ry * 0.8)
    # Only the shadow's own area is drawn and blurred (a full-canvas mask cost ~1.5 ms each).
    pad = math.ceil(4 * sigma) + 2
    x0, x1 = max(0, math.floor(cx - rx) - pad), min(s.w, math.ceil(cx + rx) + pad + 1)
    y0, y1 = max(0, math.floor(cy - ry) - pad), min(s.h, math.ceil(cy + ry) + pad + 1)
    if x1 <= x0 or y1 <= y0:
        return
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.ellipse(
        m,
        (round((cx - x0) * 4), round((cy - y0) * 4)),
        (round(rx * 4), round(ry * 4)),
        0,
        0,
        360,
        255,
        -1,
        cv2.LINE_AA,
        2,
    )
    a = _blur(m.astype(F32) * F32(1 / 255), sigma) * F32(0.5 * (1 - 0.5 * q.z))
    colour = _col3(_darken(_mix(s.p.land_near, s.p.sky_top, 0.3), 0.75)).astype(F32)
    region = s.img[:, y0:y1, x0:x1]
    region += (colour - region) * a[None]


def _draw(s: _Scene, q: _Placed) -> None:
    kind = q.sub.drawing.kind
    target = max(4, round(q.height * s.h))
    ref = raster(q.sub.drawing.code, 96)
    px = round(target * 96 / max(ref.shape[0], 1))
    rgba = raster(q.sub.drawing.code, min(1024, px)).copy()
    if q.flip:
        rgba = np.ascontiguousarray(rgba[:, ::-1])
    rgb = np.ascontiguousarray(rgba[:, :, :3])
    if q.sub.colour is not None:
        _tint(rgb, q.sub.colour)
    # Light: the scene's light colour, darker at night; haze with distance.
    p = s.p
    light = _mix(_c((1, 1, 1)), _lighten(p.light, 0.2), 0.35)
    light = light / max(float(light.max()), 1e-3)
    if s.scene in ("night", "space"):
        light = _mix(light * 0.55, _lighten(p.sky_mid, 0.3), 0.25)
    rgb *= light.astype(np.float32)[None, None, :]
    haze_c = p.water if kind == "underwater" else p.haze
    haze = 0.15 + 0.5 * q.z if kind == "underwater" else 0.55 * q.z**1.3
    if kind == "object":  # a table is a few steps deep, not a valley
        haze *= 0.3
    rgb += (haze_c.astype(np.float32)[None, None, :] - rgb) * F32(haze)
    rgba[:, :, :3] = rgb
    h, w = rgba.shape[:2]
    x0 = round(q.x * s.w - w / 2)
    y0 = round(q.foot * s.h - (h / 2 if kind in ("sky", "underwater") else h))
    if kind in _SHADOWED:
        _shadow(s, q, w)
    if kind == "water":
        _reflect(s, rgba, x0, y0, h)
        cut = round(h * 0.88)  # the hull sits in the water
        rgba[cut:, :, 3] *= np.linspace(1, 0.2, h - cut, dtype=F32)[:, None]
    if kind == "underwater" or (q.z > 0.4 and kind != "object"):  # a table's are all near
        rgba[:, :, 3] *= F32(1 - 0.25 * q.z)
    _paste(s, rgba, x0, y0)
    fy0, fy1 = max(0, y0), min(s.h, y0 + h)
    fx0, fx1 = max(0, x0), min(s.w, x0 + w)
    if fy1 > fy0 and fx1 > fx0:
        s.depth[fy0:fy1, fx0:fx1] = np.minimum(s.depth[fy0:fy1, fx0:fx1], 0.2 + 0.6 * q.z)


def _reflect(s: _Scene, rgba: np.ndarray, x0: int, y0: int, h: int) -> None:
    refl = np.ascontiguousarray(rgba[::-1])
    refl[:, :, 3] *= np.linspace(0.45, 0.0, h, dtype=F32)[:, None]
    refl[:, :, :3] = refl[:, :, :3] * 0.6 + _col3(s.p.water).reshape(1, 1, 3) * 0.4
    # A ripple: each row shifts a little (np.roll of every row at once, by gathering).
    shift = (np.sin(np.arange(h, dtype=F32) * F32(1.3)) * F32(max(1.0, h * 0.015))).astype(int)
    w = refl.shape[1]
    cols = (np.arange(w)[None, :] - shift[:, None]) % w
    refl = refl[np.arange(h)[:, None], cols]
    _paste(s, refl, x0, y0 + round(h * 0.86))


def subject_boxes(s: _Scene) -> list[tuple[float, float, float, float]]:
    """Where the subjects will stand (x0, y0, x1, y1 as shares of the width and height), so
    that a busy layer under them can leave them room; the same plan ``draw_subjects`` uses."""
    return [(q.box[0] / s.ar, q.box[1], q.box[2] / s.ar, q.box[3]) for q in _plan(s, s.drawings)]


def draw_subjects(s: _Scene) -> None:
    """Every subject the prompt names, placed, scaled and lit (no-op without any)."""
    if not s.drawings:
        return
    for q in _plan(s, s.drawings):
        _draw(s, q)
    s.drawn = True


# --------------------------------------------------------------------------- scenes


def still_life(s: _Scene) -> None:
    """Objects on a table before a soft, out-of-focus wall."""
    p = s.p
    s.hz = 0.7
    wall = _mix(_mix(p.haze, p.sky_mid, 0.4), _c((0.55, 0.5, 0.46)), 0.35)
    d = s.dist(0.5, 0.35)
    s.gradient_field(_lighten(wall, 0.2), _darken(wall, 0.45), np.clip(d * 1.2, 0, 1))
    s.img[:] = s.fld
    glow = np.exp(-s.dist(0.3, 0.25) / F32(0.25)) * F32(0.25)
    s.add(p.light, glow)
    top = F32(0.7)
    table = s.aa(s.Y - top) * np.ones((1, s.w), F32)
    wood = _mix(_c((0.45, 0.3, 0.2)), p.land_near, 0.25)
    grain = s.fbm("table", 3.0, 3, stretch=10.0)
    s.gradient_field(_lighten(wood, 0.15), _darken(wood, 0.35), _smooth(0.7, 1.0, s.Y))
    s.fld *= (0.9 + grain * F32(0.2))[None]
    s.paint(s.fld, table)
    s.add(_lighten(wood, 0.4), np.exp(-np.abs(s.Y - top) * F32(s.h * 0.5)) * F32(0.25))
    s.ground_top = 0.7
    s.open_sky[:] = 0
    s.depth[:] = np.where(top > s.Y, 0.8, 0.3)


def underwater(s: _Scene) -> None:
    """Open water seen from below: a depth gradient, god rays, a sandy floor, bubbles."""
    p = s.p
    s.hz = 0.0
    deep = _darken(_mix(p.water, _c((0.0, 0.15, 0.3)), 0.5), 0.5)
    shallow = _lighten(_mix(p.water, _c((0.1, 0.6, 0.7)), 0.5), 0.25)
    s.gradient_field(shallow, deep, _smooth(0.0, 1.0, s.Y))
    s.img[:] = s.fld
    rays = s.fbm("rays", 6.0, 2, stretch=0.08)
    s.add(_lighten(shallow, 0.4), np.clip(rays - 0.5, 0, 1) * (1 - s.Y) * F32(0.5))
    floor = F32(0.9) + (s.fbm("seabed", 2.0, 3)[0:1] - 0.5) * F32(0.06)
    sand = s.aa(s.Y - floor)
    s.paint(_mix(_c((0.6, 0.55, 0.4)), deep, 0.5), sand)
    rng = s.rng("bubbles")
    m = s.mask_u8()
    for _ in range(int(rng.integers(15, 30))):
        x, y, r = rng.uniform(0, 1), rng.uniform(0, 0.9), rng.uniform(0.003, 0.012)
        cv2.circle(
            m,
            (round(x * s.w * 4), round(y * s.h * 4)),
            max(1, round(r * s.h * 4)),
            255,
            1,
            cv2.LINE_AA,
            2,
        )
    s.add(_lighten(shallow, 0.5), m.astype(F32) * F32(0.6 / 255))
    s.ground_top = None
    s.open_sky[:] = 0
    s.depth[:] = 0.6


def weather(s: _Scene, kind: str) -> None:
    """Falling snow or rain over everything (before the look, which styles them too)."""
    rng = s.rng("weather")
    m = s.mask_u8()
    if kind == "snow":
        for _ in range(int(260 * s.ar)):
            x, y = float(rng.random()), float(rng.random())
            r = max(0.6, float(rng.uniform(0.6, 2.2)) * s.h / 512)
            cv2.circle(
                m, (round(x * s.w * 4), round(y * s.h * 4)), round(r * 4), 255, -1, cv2.LINE_AA, 2
            )
        s.paint(_c((0.96, 0.97, 1.0)), _blur(m.astype(F32) * F32(1 / 255), 0.6) * F32(0.9))
    else:
        slant = float(rng.uniform(-0.25, 0.05))
        for _ in range(int(420 * s.ar)):
            x, y = float(rng.random()), float(rng.random())
            ln = float(rng.uniform(0.02, 0.05)) * s.h
            p0 = (round(x * s.w * 4), round(y * s.h * 4))
            p1 = (round((x * s.w + slant * ln) * 4), round((y * s.h + ln) * 4))
            cv2.line(m, p0, p1, 150, 1, cv2.LINE_AA, 2)
        s.img *= 0.85
        s.add(_mix(s.p.haze, _c((0.8, 0.85, 0.9)), 0.5), m.astype(F32) * F32(0.55 / 255))
