"""Re-Craft's raster styles, one function each, applied after the endpoint's look."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from engine.render.text_to_image.effects import _edges, _local_contrast, _posterize
from engine.render.text_to_image.noise import F32, _blur, _blur3, _luma, _smooth
from engine.render.text_to_image.palettes import Colour, _c, _col3, _darken, _lighten, _mix
from engine.render.text_to_image.scene import _Scene


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
