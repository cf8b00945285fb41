"""utils/clarify: denoising, and deblurring by deconvolution with a blindly estimated blur."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from engine.render.utilities.images import _denoise, _join, _match_choice, _resize_max, _split

CLARIFY_TYPES = ("Image Debluring (REDS)", "Image Denoising", "Image Debluring (GoPro)")


@dataclass(frozen=True)
class _DeblurProfile:
    """Priors for one deblurring type (lengths are fractions of the image's long side)."""

    max_length: float  # longest motion the blind estimate looks for
    fallback_length: float  # spread assumed when no straight motion is found
    sigma: float  # Gaussian added to the motion line (defocus, slightly curved paths)
    reg: float  # Laplacian regularisation: higher = less ringing and less sharpening
    nsr: float  # flat noise-to-signal term: caps the gain where the kernel has zeros


# REDS: 240 fps video frames averaged into one, so short, smooth, slightly soft motion.
# GoPro (Nah et al. 2017): 7-13 frames of a hand-held camera averaged, so longer shake with
# a crisper path; long kernels amplify noise more, hence the stronger regularisation.
_DEBLUR = {
    "Image Debluring (REDS)": _DeblurProfile(1 / 40, 1 / 170, 0.8, 0.005, 0.003),
    "Image Debluring (GoPro)": _DeblurProfile(1 / 16, 1 / 85, 0.3, 0.01, 0.006),
}
_CEPSTRUM_SIDE = 512  # blur is estimated on a copy this long: plenty for lengths < 40 px
_CEPSTRUM_Z = -8.0  # robust z-score of the cepstral dip that counts as straight motion


def _estimate_motion(y: np.ndarray, max_length: float) -> tuple[float, float] | None:
    """Blind estimate of straight-line motion blur: (length px, angle deg) or None.

    Uniform linear motion of length L puts periodic zeros in the spectrum, which show up
    as a strong negative dip in the cepstrum at distance L along the motion (Rekleitis
    1996). The dip is searched on a polar grid and must stand far out from the rest.
    """
    small, scale = _resize_max(y, _CEPSTRUM_SIDE)
    h, w = small.shape
    max_r = min(max_length * scale, h / 4, w / 4)
    if max_r < 3:
        return None
    window = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    spectrum = np.fft.fft2((small - small.mean()) * window)
    ceps = np.fft.fftshift(np.real(np.fft.ifft2(np.log1p(np.abs(spectrum))))).astype(np.float32)
    angles = np.radians(np.arange(0.0, 180.0, 1.0, dtype=np.float32))
    radii = np.arange(2.0, max_r + 0.25, 0.25, dtype=np.float32)
    map_x = (w // 2 + np.cos(angles)[:, None] * radii[None, :]).astype(np.float32)
    map_y = (h // 2 + np.sin(angles)[:, None] * radii[None, :]).astype(np.float32)
    polar = cv2.remap(ceps, map_x, map_y, cv2.INTER_LINEAR)
    median = float(np.median(polar))
    spread = 1.4826 * float(np.median(np.abs(polar - median))) + 1e-12
    ai, ri = np.unravel_index(int(polar.argmin()), polar.shape)
    if (float(polar[ai, ri]) - median) / spread > _CEPSTRUM_Z:
        return None
    # The dip sits about one pixel past the line's nominal length (its anti-aliased ends).
    return max(1.0, float(radii[ri]) / scale - 1.0), float(np.degrees(angles[ai]))


def _motion_psf(length: float, angle: float, sigma: float) -> np.ndarray:
    """Normalised line kernel (anti-aliased, sub-pixel length) softened by a Gaussian."""
    half = math.ceil(length / 2 + 3 * sigma) + 1
    size = 2 * half + 1
    ss = 8  # draw supersampled, then average down, for a sub-pixel accurate line
    canvas = np.zeros((size * ss, size * ss), np.float32)
    c = (size * ss) / 2.0
    dx = math.cos(math.radians(angle)) * length * ss / 2
    dy = math.sin(math.radians(angle)) * length * ss / 2
    p0 = (round(c - dx), round(c - dy))
    p1 = (round(c + dx), round(c + dy))
    cv2.line(canvas, p0, p1, 1.0, thickness=ss, lineType=cv2.LINE_AA)
    psf = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    if sigma > 0:
        psf = cv2.GaussianBlur(psf, (0, 0), sigma)
    return psf / max(float(psf.sum()), 1e-12)


def _gaussian_psf(sigma: float) -> np.ndarray:
    half = math.ceil(3 * sigma)
    g = cv2.getGaussianKernel(2 * half + 1, sigma).astype(np.float32)
    return g @ g.T


def _psf2otf(psf: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    padded = np.zeros(shape, np.float32)
    kh, kw = psf.shape
    padded[:kh, :kw] = psf
    padded = np.roll(padded, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    return np.fft.rfft2(padded)


def _deconvolve(y: np.ndarray, psf: np.ndarray, reg: float, nsr: float) -> np.ndarray:
    """Regularised inverse filter of a 0..1 plane: ``conj(H) / (|H|^2 + reg |L|^2 + nsr)``.

    The Laplacian term (constrained least squares) damps high frequencies; the flat
    Wiener term bounds the gain at the low-frequency zeros of long motion kernels, where
    the Laplacian alone would amplify quantisation noise and kernel error many times.
    """
    h, w = y.shape
    pad = max(psf.shape) * 2
    # Mirror padding keeps the image continuous across the FFT's wrap-around: no edge ringing.
    big = cv2.copyMakeBorder(y, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    fh, fw = cv2.getOptimalDFTSize(big.shape[0]), cv2.getOptimalDFTSize(big.shape[1])
    big = cv2.copyMakeBorder(big, 0, fh - big.shape[0], 0, fw - big.shape[1], cv2.BORDER_REFLECT)
    otf = _psf2otf(psf, (fh, fw))
    lap = _psf2otf(np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], np.float32), (fh, fw))
    # float32 in, complex64 out (numpy >= 2): half the memory of double precision, which
    # matters at 40 megapixels, and ample precision for 8-bit output.
    spectrum = np.fft.rfft2(big.astype(np.float32))
    denominator = np.abs(otf) ** 2 + np.float32(reg) * np.abs(lap) ** 2 + np.float32(nsr)
    restored = np.conj(otf) * spectrum / denominator
    out = np.fft.irfft2(restored, s=(fh, fw))
    return out[pad : pad + h, pad : pad + w].astype(np.float32)


def _deblur(rgb: np.ndarray, profile: _DeblurProfile) -> np.ndarray:
    """Deconvolve the luma (chroma is left alone: blur shows in luma, colour noise would not)."""
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    y = ycc[:, :, 0].astype(np.float32) / 255.0
    side = max(rgb.shape[:2])
    motion = _estimate_motion(y, profile.max_length * side)
    if motion is not None:
        psf = _motion_psf(motion[0], motion[1], profile.sigma)
    else:
        # No straight motion found: an isotropic kernel with the type's typical spread
        # (a line of length L has a standard deviation of L / sqrt(12)).
        length = max(2.0, profile.fallback_length * side)
        psf = _gaussian_psf(math.hypot(length / math.sqrt(12), profile.sigma))
    restored = _deconvolve(y, psf, profile.reg, profile.nsr)
    # Anti-ringing: keep each pixel within the input's local range (plus a little), which
    # removes the ghost edges a slightly wrong kernel leaves in flat areas.
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (psf.shape[1], psf.shape[0]))
    restored = np.clip(restored, cv2.erode(y, kernel) - 0.02, cv2.dilate(y, kernel) + 0.02)
    ycc[:, :, 0] = np.clip(np.rint(restored * 255.0), 0, 255).astype(np.uint8)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def clarify(image: Image.Image, type: str = "Image Denoising") -> Image.Image:
    """Restore a blurred or noisy image; ``type`` is one of :data:`CLARIFY_TYPES`.

    * ``"Image Denoising"``: non-local means (``cv2.fastNlMeansDenoisingColored``), strength
      from the measured noise level, so a clean image is barely touched.
    * ``"Image Debluring (REDS)"`` / ``"Image Debluring (GoPro)"``: constrained
      least-squares deconvolution of the luma. Straight motion blur is estimated blindly
      from the cepstrum (length and angle); the two types differ in their priors: REDS
      (video) looks for motion up to 1/40 of the long side, adds 0.8 px of softness and
      falls back to an isotropic kernel of spread ~1/170 of the side; GoPro (camera
      shake) looks up to 1/16, uses a crisper line, falls back to ~1/85 and regularises
      harder. Overshoot beyond the local input range is clamped (no ringing halos).

    Alpha is kept.
    """
    key = _match_choice(type, CLARIFY_TYPES, "clarify type")
    rgb, alpha = _split(image)
    out = _denoise(rgb) if key == "Image Denoising" else _deblur(rgb, _DEBLUR[key])
    return _join(out, alpha)
