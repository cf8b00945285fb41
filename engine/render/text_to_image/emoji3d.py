"""sdxl/emoji for a named thing ("an avocado", "a rocket"): the library's drawing made a
glossy 3D sticker on transparency: inflated (a height field from the distance to the
drawing's edge gives normals), lit from the upper left with a specular highlight and a
gloss band, and given a soft drop shadow. Faces, hearts, stars, cats and suns keep their
own drawing (``emoji``).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from engine.render.drawings import raster
from engine.render.subject_words import Subject
from engine.render.text_to_image.noise import F32, _blur


def render_drawing_emoji(sub: Subject, width: int, height: int) -> Image.Image:
    """The subject's drawing as a glossy emoji, RGBA at exactly (width, height)."""
    u = min(width, height)
    w, h = width, height
    art = raster(sub.drawing.code, round(u * 0.78)).copy()
    if sub.colour is not None:
        from engine.render.text_to_image.drawn import _tint

        rgb = np.ascontiguousarray(art[:, :, :3])
        _tint(rgb, sub.colour)
        art[:, :, :3] = rgb
    ah, aw = art.shape[:2]
    x0, y0 = (w - aw) // 2, (h - ah) // 2 - round(u * 0.02)
    rgba = np.zeros((h, w, 4), F32)
    rgba[y0 : y0 + ah, x0 : x0 + aw] = art
    alpha = rgba[:, :, 3]
    # Inflate: height from the distance to the silhouette's edge, rounded like a pillow.
    inside = (alpha > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3).astype(F32)
    depth = max(2.0, float(dist.max()) * 0.6)
    z = np.sqrt(np.clip(dist / F32(depth), 0, 1)) * F32(depth)
    z = _blur(z, max(1.0, u / 160))
    gx = cv2.Sobel(z, cv2.CV_32F, 1, 0, ksize=3) / F32(8)
    gy = cv2.Sobel(z, cv2.CV_32F, 0, 1, ksize=3) / F32(8)
    n = np.sqrt(gx * gx + gy * gy + 1)
    nx, ny, nz = -gx / n, -gy / n, 1 / n
    lx, ly, lz = -0.45, -0.6, 0.66  # light from the upper left, in front
    lam = np.clip(nx * F32(lx) + ny * F32(ly) + nz * F32(lz), 0, 1)
    rz = 2 * lam * nz - F32(lz)  # reflection toward the viewer: the highlight
    spec = np.clip(rz, 0, 1) ** F32(28) * F32(0.8)
    col = rgba[:, :, :3]
    col *= (F32(0.62) + F32(0.5) * lam)[:, :, None]
    col += (spec * alpha)[:, :, None]
    # A gloss band over the upper part of the body.
    ys = (np.arange(h, dtype=F32)[:, None] - y0) / F32(max(ah, 1))
    band = np.clip(1 - np.abs(ys - 0.22) / 0.16, 0, 1) * F32(0.18) * (dist > u * 0.02)
    col += band[:, :, None]
    np.clip(col, 0, 1, out=col)
    # A soft drop shadow below and right, under the sticker.
    shadow = np.zeros_like(alpha)
    dy, dx = round(u * 0.04), round(u * 0.015)
    shadow[dy:, dx:] = alpha[: h - dy, : w - dx]
    shadow = _blur(shadow, u * 0.025) * F32(0.35)
    out_a = alpha + shadow * (1 - alpha)
    out = col * alpha[:, :, None] / np.maximum(out_a, 1e-4)[:, :, None]
    result = np.dstack([out, out_a])
    return Image.fromarray((np.clip(result, 0, 1) * 255 + 0.5).astype(np.uint8), "RGBA")
