"""utils/remove-background: grabCut on a small copy, refined at full size by a guided filter."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from engine.render.utilities.faces import Box, _detect_faces
from engine.render.utilities.images import _gray, _join, _resize_max, _split


def _guided_upsample(
    mask: np.ndarray, rgb: np.ndarray, radius_frac: float, eps: float, work_side: int = 1024
) -> np.ndarray:
    """Scale a small 0/1 mask up to ``rgb``'s size, snapped to its edges (float32 0..1).

    He et al.'s guided filter with a grey guide, in its "fast" form: the linear
    coefficients are fitted on a copy at most ``work_side`` long and only applied at full
    resolution, so a 40-megapixel input costs a few resizes rather than gigabytes of
    box filters. ``radius_frac`` is the window radius as a fraction of the long side.
    """
    h, w = rgb.shape[:2]
    small_rgb, _ = _resize_max(rgb, work_side)
    sh, sw = small_rgb.shape[:2]
    guide = _gray(small_rgb).astype(np.float32) / 255.0
    src = cv2.resize(mask.astype(np.float32), (sw, sh), interpolation=cv2.INTER_LINEAR)
    radius = max(2, round(radius_frac * max(sh, sw)))
    ksize = (2 * radius + 1, 2 * radius + 1)

    def mean(a: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(a, cv2.CV_32F, ksize, borderType=cv2.BORDER_REFLECT)

    m_i, m_p = mean(guide), mean(src)
    a = (mean(guide * src) - m_i * m_p) / (mean(guide * guide) - m_i * m_i + eps)
    b = m_p - a * m_i
    a, b = mean(a), mean(b)
    if (sh, sw) == (h, w):
        return a * guide + b
    full_guide = _gray(rgb).astype(np.float32) / 255.0
    a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    return a * full_guide + b


def _border_distance_alpha(rgb: np.ndarray) -> np.ndarray:
    """Fallback mask for images too small to segment: distance from the border colour."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    border = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])
    dist = np.linalg.norm(lab - np.median(border, axis=0), axis=2)
    return np.clip((dist - 10.0) / 15.0, 0.0, 1.0)


def _grabcut_mask(small: np.ndarray, faces: list[Box]) -> np.ndarray:
    """Foreground (0/1 uint8) of a small RGB image by grabCut."""
    h, w = small.shape[:2]
    mask = np.full((h, w), cv2.GC_PR_FGD, np.uint8)
    if faces:
        # A person: only the area around and below the face may be foreground at first.
        mask[:] = cv2.GC_PR_BGD
        for fx, fy, fw, fh in faces:
            cx = fx + fw / 2
            head_top = max(0, round(fy - 0.6 * fh))
            mask[head_top:, max(0, round(cx - 0.9 * fw)) : round(cx + 0.9 * fw)] = cv2.GC_PR_FGD
            body_top = min(h, round(fy + 1.3 * fh))
            mask[body_top:, max(0, round(cx - 2.0 * fw)) : round(cx + 2.0 * fw)] = cv2.GC_PR_FGD
        for fx, fy, fw, fh in faces:
            # The core of each face is certainly foreground.
            mask[fy + fh // 5 : fy + fh - fh // 5, fx + fw // 5 : fx + fw - fw // 5] = cv2.GC_FGD
    b = max(1, round(0.02 * max(h, w)))
    # Border pixels are background, except the bottom edge, where subjects (busts,
    # objects on a table) are often cut off: there it is only probable background.
    mask[-b:, :][mask[-b:, :] != cv2.GC_FGD] = cv2.GC_PR_BGD
    mask[:b, :] = cv2.GC_BGD
    mask[:, :b] = cv2.GC_BGD
    mask[:, -b:] = cv2.GC_BGD
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0x5EED)  # grabCut seeds its GMMs with k-means++: make it repeatable
    cv2.grabCut(
        cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
        mask,
        None,
        bgd,
        fgd,
        4,
        cv2.GC_INIT_WITH_MASK,
    )
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel)
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, kernel)
    # Keep the main object(s); drop specks grabCut leaves in the background.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n > 2:
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = np.flatnonzero(areas >= max(0.1 * areas.max(), 0.002 * h * w)) + 1
        fg = np.isin(labels, keep).astype(np.uint8)
    return fg


def remove_background(image: Image.Image) -> Image.Image:
    """Cut out the foreground: an RGBA image whose background has alpha 0.

    grabCut runs on a copy at most 256 px long (4 iterations), seeded with the image
    border as background (the bottom edge only as probable background) and, when Haar
    finds faces, with a head-and-shoulders prior. The 0/1 mask is scaled back up and
    refined with a guided filter on the full-resolution luma, which gives a feathered
    edge that follows the real contours. Images under 16 px fall back to a
    distance-from-border-colour mask. An existing alpha channel is multiplied in.
    """
    rgb, alpha_in = _split(image)
    h, w = rgb.shape[:2]
    if min(h, w) < 16:
        soft = _border_distance_alpha(rgb)
    else:
        small, scale = _resize_max(rgb, 256)
        faces = [
            (
                round(x * scale),
                round(y * scale),
                max(1, round(fw * scale)),
                max(1, round(fh * scale)),
            )
            for x, y, fw, fh in _detect_faces(rgb)
        ]
        try:
            fg = _grabcut_mask(small, faces)
        except cv2.error:  # e.g. a degenerate colour model: use the simple mask instead
            fg = None
        if fg is None or not fg.any():
            soft = _border_distance_alpha(rgb)
        else:
            # Window ~1.5 mask pixels: wide enough to cover the blocky upscaled edge.
            soft = _guided_upsample(fg, rgb, radius_frac=1.5 / max(small.shape[:2]), eps=1e-3)
    # Snap near-certain values so the background is exactly transparent.
    soft = np.clip((soft - 0.05) / 0.9, 0.0, 1.0)
    alpha = np.rint(soft * 255.0).astype(np.uint8)
    if alpha_in is not None:
        alpha = ((alpha.astype(np.uint16) * alpha_in + 127) // 255).astype(np.uint8)
    return _join(rgb, alpha)
