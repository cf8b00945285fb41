"""Randomness and noise for the raster renderer.

All randomness comes from ``numpy.random.Generator(PCG64)`` seeded by a BLAKE2b digest of
the request with one named sub-stream per layer (``_rng``), so the same request gives the
same pixels and removing one layer does not reshuffle the others. Value noise, fractal noise
and blurs work on float32 planes through OpenCV, which is fast at any size.
"""

from __future__ import annotations

import hashlib
import math

import cv2
import numpy as np

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
