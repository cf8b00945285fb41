"""The endpoints' own looks, applied after grading: cinema's teal-orange and flare, neon,
painterly, geometric, cel shading, edges, depth, fill, remix, LoRA, few steps, old models.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from engine.render.text_to_image.noise import F32, _blur, _blur3, _luma, _smooth
from engine.render.text_to_image.palettes import _c, _col3, _lighten, _mix
from engine.render.text_to_image.scene import _Scene


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
