"""utils/facerestore: each face enhanced inside a feathered ellipse."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from engine.render.utilities.faces import _detect_faces, _face_region
from engine.render.utilities.images import _clahe_l, _denoise, _join, _sharpen_luma, _split


def _restore_patch(patch: np.ndarray) -> np.ndarray:
    """Denoise, sharpen and add local contrast to one face crop."""
    side = min(patch.shape[:2])
    # Settings chosen on the astronaut's face with added blur/noise: they cut the measured
    # noise of a noisy face by ~40 % and double the Laplacian variance of a soft one while
    # keeping PSNR to the original level (stronger CLAHE looked harsh and cost 1-3 dB).
    out = _denoise(patch, strength=1.2)
    out = _sharpen_luma(out, sigma=max(1.0, side / 160), amount=0.6, threshold=3.0)
    return _clahe_l(out, clip=1.5, grid=4, mix=0.4)


def _light_enhance(rgb: np.ndarray) -> np.ndarray:
    """Gentle whole-image clean-up used when no face is found."""
    out = _sharpen_luma(rgb, sigma=1.2, amount=0.35, threshold=2.0)
    return _clahe_l(out, clip=1.5, grid=8, mix=0.35)


def face_restore(image: Image.Image) -> Image.Image:
    """Restore the faces in an image (alpha is kept).

    Each face found (Haar frontal + profile on a copy at most 512 px long) is grown to
    cover chin and forehead, then denoised (NL-means), sharpened (thresholded unsharp mask
    on luma) and given local contrast (CLAHE on L); the result is blended back through a
    feathered ellipse, so the rest of the image is unchanged. An image with no face
    detected is not an error: it comes back lightly enhanced overall (mild sharpening and
    local contrast).
    """
    rgb, alpha = _split(image)
    faces = _detect_faces(rgb, thorough=True)
    if not faces:
        return _join(_light_enhance(rgb), alpha)
    out = rgb.copy()
    for box in faces:
        x, y, w, h = _face_region(box, rgb.shape)
        # Work on a padded crop so the denoiser/CLAHE see context past the ellipse edge.
        pad = max(4, round(0.15 * max(w, h)))
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(rgb.shape[1], x + w + pad), min(rgb.shape[0], y + h + pad)
        crop = out[y0:y1, x0:x1]
        restored = _restore_patch(crop)
        mask = np.zeros(crop.shape[:2], np.float32)
        centre = (x + w // 2 - x0, y + h // 2 - y0)
        cv2.ellipse(mask, centre, (max(1, w // 2), max(1, h // 2)), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.08 * min(w, h)))[:, :, None]
        blended = restored.astype(np.float32) * mask + crop.astype(np.float32) * (1 - mask)
        out[y0:y1, x0:x1] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return _join(out, alpha)
