"""utils/upscale: one classical pipeline per upscale model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from engine.render.utilities.errors import UtilityError
from engine.render.utilities.images import (
    _clahe_l,
    _gray,
    _join,
    _match_choice,
    _normalise,
    _sharpen_luma,
    _split,
    _unsharp,
)

MAX_UPSCALE_OUTPUT_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class UpscaleMethod:
    """One upscale "model": an integer factor and a classical pipeline standing in for it."""

    name: str
    factor: int
    description: str
    process: Callable[[np.ndarray, int], np.ndarray] = field(repr=False, compare=False)


def _resize_by(rgb: np.ndarray, factor: int, interpolation: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (w * factor, h * factor), interpolation=interpolation)


def _up_realesrgan(rgb: np.ndarray, factor: int) -> np.ndarray:
    # Sharpen at the source resolution (16x cheaper than after a x4 resize; Lanczos is
    # linear, so the effect carries over), skipping differences that look like noise.
    pre = _sharpen_luma(rgb, sigma=1.0, amount=0.6, threshold=2.0)
    big = _resize_by(pre, factor, cv2.INTER_LANCZOS4)
    # A small-radius pass at the new size crisps the interpolated edges.
    return _unsharp(big, sigma=1.0, amount=0.35)


def _up_animagine(rgb: np.ndarray, factor: int) -> np.ndarray:
    # Bilateral: flattens shading noise / JPEG mosquitoes but keeps the line art.
    flat = cv2.bilateralFilter(rgb, 5, 20, 3) if min(rgb.shape[:2]) >= 5 else rgb
    big = _resize_by(flat, factor, cv2.INTER_LANCZOS4)
    # Shock filter: inside a transition, move each pixel to the nearer of its local
    # min/max, which turns the soft ramps of interpolation into crisp, clean lines.
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    lo = cv2.erode(big, kernel)
    hi = cv2.dilate(big, kernel)
    snapped = np.where(cv2.subtract(big, lo) < cv2.subtract(hi, big), lo, hi)
    # Only where there is a real edge (local range above 24 levels); smooth gradients stay.
    edge = cv2.subtract(hi, lo) > 24
    out = np.where(edge, cv2.addWeighted(big, 0.4, snapped, 0.6, 0), big)
    return np.ascontiguousarray(out)


def _up_openjourney(rgb: np.ndarray, factor: int) -> np.ndarray:
    # Local contrast is low-frequency: do it (and the sharpening) before the resize.
    pre = _clahe_l(rgb, clip=1.6, grid=8, mix=0.6)
    pre = _sharpen_luma(pre, sigma=1.0, amount=0.4, threshold=1.5)
    return _resize_by(pre, factor, cv2.INTER_LANCZOS4)


def _up_epicrealism(rgb: np.ndarray, factor: int) -> np.ndarray:
    big = _resize_by(rgb, factor, cv2.INTER_CUBIC)
    big = _sharpen_luma(big, sigma=1.2, amount=0.3)
    h, w = big.shape[:2]
    # Fine film grain: a fixed seed keeps the output repeatable (same input, same bytes).
    rng = np.random.default_rng(20240607)
    grain = rng.standard_normal((h, w), dtype=np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), 0.6) * 2.2
    # Less grain in deep shadows and clipped highlights, as with real film.
    y = _gray(big).astype(np.float32) / 255.0
    grain *= 0.35 + 2.6 * y * (1.0 - y)
    out = big.astype(np.float32) + grain[:, :, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


UPSCALE_MODELS: dict[str, UpscaleMethod] = {
    m.name: m
    for m in (
        UpscaleMethod(
            "Openjourney Redefine",
            2,
            "x2: local contrast (CLAHE on L, 60 % mix) + light unsharp mask, then Lanczos.",
            _up_openjourney,
        ),
        UpscaleMethod(
            "EpicRealism Natural",
            2,
            "x2: bicubic, gentle luma unsharp mask, fine seeded film grain.",
            _up_epicrealism,
        ),
        UpscaleMethod(
            "Real-ESRGAN",
            4,
            "x4: noise-thresholded luma unsharp mask, Lanczos, small-radius edge enhance.",
            _up_realesrgan,
        ),
        UpscaleMethod(
            "Animagine Redefine",
            4,
            "x4 for anime/line art: bilateral flattening, Lanczos, shock-filter edges.",
            _up_animagine,
        ),
    )
}


def _bleed_colours(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Fill (semi-)transparent pixels with nearby opaque colours before resampling, so
    the resize does not pull the (often black) colour of invisible pixels into edges."""
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    if float(a.max()) <= 0.0:
        return rgb
    sigma = max(2.0, max(rgb.shape[:2]) / 64)
    num = cv2.GaussianBlur(rgb.astype(np.float32) * a, (0, 0), sigma)
    den = cv2.GaussianBlur(a, (0, 0), sigma)
    den = den[:, :, None] if den.ndim == 2 else den
    fill = num / np.maximum(den, 1e-4)
    out = rgb.astype(np.float32) * a + fill * (1.0 - a)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def upscale(image: Image.Image, model: str = "Real-ESRGAN") -> Image.Image:
    """Enlarge by the model's factor (see :data:`UPSCALE_MODELS`); alpha is kept.

    Raises :class:`UtilityError` for an unknown model or when the output would exceed
    :data:`MAX_UPSCALE_OUTPUT_PIXELS`.
    """
    key = _match_choice(model, tuple(UPSCALE_MODELS), "upscale model")
    method = UPSCALE_MODELS[key]
    im = _normalise(image)
    f = method.factor
    out_w, out_h = im.width * f, im.height * f
    if out_w * out_h > MAX_UPSCALE_OUTPUT_PIXELS:
        raise UtilityError(
            f"The upscaled image would be too large: {out_w}x{out_h} pixels "
            f"(limit {MAX_UPSCALE_OUTPUT_PIXELS:,} pixels)."
        )
    rgb, alpha = _split(im)
    if alpha is not None and int(alpha.min()) < 255:
        rgb = _bleed_colours(rgb, alpha)
    out = method.process(rgb, f)
    if alpha is not None:
        alpha = _resize_by(alpha, f, cv2.INTER_CUBIC)  # uint8 resize saturates: no wrap
    return _join(out, alpha)
