"""utils/faceswap: the source's largest face onto the target's, colours matched in LAB."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from engine.render.utilities.errors import NoFaceFound, UtilityError
from engine.render.utilities.faces import Box, _detect_faces, _ellipse_mask, _face_region
from engine.render.utilities.images import _join, _split


def _largest_face(rgb: np.ndarray, which: str) -> Box:
    faces = _detect_faces(rgb)
    if not faces:
        raise NoFaceFound(f"No face found in the {which} image.")
    return faces[0]  # sorted largest first


def _lab_transfer(patch: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reinhard colour transfer: match mean/std per LAB channel inside ``mask``."""
    p = cv2.cvtColor(patch.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    r = cv2.cvtColor(reference.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    inside = mask > 0
    for c in range(3):
        ps, rs = p[:, :, c][inside], r[:, :, c][inside]
        p_std, r_std = float(ps.std()), float(rs.std())
        ratio = float(np.clip(r_std / p_std, 0.5, 2.0)) if p_std > 1e-6 else 1.0
        p[:, :, c] = (p[:, :, c] - float(ps.mean())) * ratio + float(rs.mean())
    out = cv2.cvtColor(p, cv2.COLOR_LAB2RGB)
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)


def face_swap(source: Image.Image, target: Image.Image) -> Image.Image:
    """Put the largest face of ``source`` onto the largest face of ``target``.

    The source face is scaled/translated onto the target face box, its colours are
    matched to the target face in LAB (mean/std), and it is blended in with
    ``cv2.seamlessClone`` through an elliptical mask; pixels outside the ellipse keep the
    target's values, and the target's alpha is kept. Raises :class:`NoFaceFound` when
    either image has no detectable face (source checked first).
    """
    src, _ = _split(source, "source image")
    dst, alpha = _split(target, "target image")
    s_box = _largest_face(src, "source")
    t_box = _largest_face(dst, "target")

    # The region to replace, kept 2 px inside the image: seamlessClone needs the mask's
    # bounding box strictly inside the destination.
    x0, y0, rw, rh = _face_region(t_box, dst.shape, margin=2)
    if rw < 8 or rh < 8:
        raise NoFaceFound("No face found in the target image.")
    # Affine map from the target region into the source: the face boxes line up.
    sx = s_box[2] / t_box[2]
    sy = s_box[3] / t_box[3]
    m = np.array(
        [[sx, 0, s_box[0] + (x0 - t_box[0]) * sx], [0, sy, s_box[1] + (y0 - t_box[1]) * sy]],
        np.float64,
    )
    patch = cv2.warpAffine(
        src,
        m,
        (rw, rh),
        flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    mask = _ellipse_mask(rw, rh, inset=1)
    reference = dst[y0 : y0 + rh, x0 : x0 + rw]
    patch = _lab_transfer(patch, reference, mask)

    bx, by, bw, bh = cv2.boundingRect(mask)
    # seamlessClone centres the mask's bounding box on this point.
    centre = (x0 + bx + bw // 2, y0 + by + bh // 2)
    try:
        out = cv2.seamlessClone(patch, dst, mask, centre, cv2.NORMAL_CLONE)
    except cv2.error as exc:  # pragma: no cover - geometry is clamped above
        raise UtilityError("The faces could not be blended.") from exc
    return _join(out, alpha)
