"""Face detection for face restore, face swap and background removal: OpenCV's Haar cascades."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from engine.render.utilities.errors import UtilityError
from engine.render.utilities.images import _gray, _resize_max

_CASCADES = threading.local()  # CascadeClassifier objects are not shared between threads


def _cascade(name: str) -> cv2.CascadeClassifier:
    cache = getattr(_CASCADES, "cache", None)
    if cache is None:
        cache = _CASCADES.cache = {}
    if name not in cache:
        clf = cv2.CascadeClassifier(cv2.data.haarcascades + name)
        if clf.empty():
            raise UtilityError("The face detector is unavailable.")
        cache[name] = clf
    return cache[name]


Box = tuple[int, int, int, int]  # x, y, w, h


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area (catches a box nested in another)."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / max(1, min(a[2] * a[3], b[2] * b[3]))


def _detect_faces(rgb: np.ndarray, *, thorough: bool = False, max_side: int = 512) -> list[Box]:
    """Faces, largest first, in ``rgb`` pixel coordinates.

    The frontal cascade always runs; the profile cascade (on the image and its mirror,
    since it only knows faces turned one way) runs when ``thorough`` or when no frontal
    face was found, because it costs twice as much. Detection runs on a copy at most
    ``max_side`` pixels long: Haar cascades gain little from more resolution, and the
    cost grows with the pixel count.
    """
    if min(rgb.shape[:2]) < 24:
        return []
    small, scale = _resize_max(rgb, max_side)
    gray = cv2.equalizeHist(_gray(small))
    sh, sw = gray.shape
    min_face = max(24, min(sh, sw) // 20)
    found: list[Box] = []
    frontal = _cascade("haarcascade_frontalface_default.xml").detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_face, min_face)
    )
    found += [tuple(int(v) for v in f) for f in frontal]
    profile = _cascade("haarcascade_profileface.xml")
    for flipped in (False, True) if thorough or not found else ():
        g = cv2.flip(gray, 1) if flipped else gray
        for x, y, w, h in profile.detectMultiScale(
            g, scaleFactor=1.2, minNeighbors=6, minSize=(min_face, min_face)
        ):
            x = sw - x - w if flipped else x
            found.append((int(x), int(y), int(w), int(h)))
    found.sort(key=lambda b: (-b[2] * b[3], b[0], b[1]))
    kept: list[Box] = []
    for box in found:
        if all(_overlap(box, k) < 0.5 for k in kept):
            kept.append(box)
    return [
        (round(x / scale), round(y / scale), round(w / scale), round(h / scale))
        for x, y, w, h in kept
    ]


def _face_region(box: Box, shape: tuple[int, ...], margin: int = 0) -> Box:
    """Grow a Haar box (eyebrows to mouth) to cover the whole face, clipped to the image."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h * 0.55  # Haar boxes sit a little high on the face
    rw, rh = w * 1.15, h * 1.35
    x0 = max(margin, round(cx - rw / 2))
    y0 = max(margin, round(cy - rh / 2))
    x1 = min(shape[1] - margin, round(cx + rw / 2))
    y1 = min(shape[0] - margin, round(cy + rh / 2))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def _ellipse_mask(w: int, h: int, inset: int = 0) -> np.ndarray:
    """uint8 mask (255 inside) of the ellipse inscribed in a w x h box."""
    mask = np.zeros((h, w), np.uint8)
    axes = (max(1, w // 2 - inset), max(1, h // 2 - inset))
    cv2.ellipse(mask, (w // 2, h // 2), axes, 0, 0, 360, 255, -1)
    return mask
