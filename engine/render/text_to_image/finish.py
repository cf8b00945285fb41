"""Finishing at full size: upscale, sharpen, crisp stars, film grain, scanlines, seamless
tiles, letterbox, pixel-art and voxel blocks.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.render.text_to_image.noise import F32, _luma, _rng
from engine.render.text_to_image.scene import _Scene


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
