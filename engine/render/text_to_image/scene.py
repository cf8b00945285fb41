"""The work canvas a render composes on (``_Scene``), and the full-size finishing steps
chosen while composing (``_Finish``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.render.prompt import (
    PromptTraits,
)
from engine.render.subject_words import Subject
from engine.render.text_to_image.looks import _Look, _Sched
from engine.render.text_to_image.noise import F32, _fbm, _rng
from engine.render.text_to_image.palettes import Colour, _col3, _Palette


class _Scene:
    """The work canvas (channel-first float32) and what the layers know about it."""

    def __init__(
        self,
        h: int,
        w: int,
        key: bytes,
        traits: PromptTraits,
        palette: _Palette,
        look: _Look,
        sched: _Sched,
        guidance: float,
    ) -> None:
        self.h, self.w, self.ar = h, w, w / h
        self.key = key
        self.traits = traits
        self.p = palette
        self.look = look
        self.sched = sched
        self.guidance = guidance
        self.Y = ((np.arange(h, dtype=F32) + 0.5) / h)[:, None]
        self.X = ((np.arange(w, dtype=F32) + 0.5) / w)[None, :]
        self.img = np.zeros((3, h, w), F32)
        self.tmp = np.empty((3, h, w), F32)  # scratch, reused: big temporaries are slow
        self.fld = np.empty((3, h, w), F32)  # per-pixel colour field of the current layer
        self.open_sky = np.ones((h, w), F32)  # where stars may still show
        self.depth = np.ones((h, w), F32)  # 1 far .. 0 near, for depth looks
        self.hz = 0.62
        self.sun: tuple[float, float, float] | None = None  # cx, cy, radius (height units)
        self.stars: tuple[np.ndarray, ...] | None = None
        self.clouds: np.ndarray | None = None  # cloud density, so the sun can sit behind it
        self.kind = "landscape"
        self.subjects = set(traits.subjects)
        self.scene: str | None = None
        self.drawings: tuple[Subject, ...] = ()  # the library's subjects to draw
        self.drawn = False  # whether a drawing went in (the image then credits it)
        self.ground_top: float | None = None  # where subjects stand, when not the horizon
        self.finish = _Finish(grain=look.grain + sched.grain, sharpen=look.sharpen)

    # -- randomness and noise -------------------------------------------------
    def rng(self, name: str) -> np.random.Generator:
        return _rng(self.key, name)

    def fbm(
        self,
        name: str,
        cells: float,
        octaves: int,
        stretch: float = 1.0,
        ridged: bool = False,
        gain: float | None = None,
    ) -> np.ndarray:
        octs = max(1, octaves + self.look.detail + self.sched.octaves)
        g = self.sched.gain if gain is None else gain
        return _fbm(self.rng(name), self.h, self.w, cells, octs, g, stretch, ridged)

    # -- painting ------------------------------------------------------------------
    def paint(self, colour: np.ndarray, mask: np.ndarray) -> None:
        """img = lerp(img, colour, mask); colour is (3,) or a (3,h,w) field."""
        src = _col3(colour) if colour.ndim == 1 else colour
        np.subtract(src, self.img, out=self.tmp)
        self.tmp *= mask
        self.img += self.tmp

    def add(self, colour: Colour, amount: np.ndarray) -> None:
        np.multiply(_col3(colour), amount, out=self.tmp)
        self.img += self.tmp

    def gradient_field(self, c0: Colour, c1: Colour, t: np.ndarray) -> np.ndarray:
        """self.fld = c0 + (c1 - c0) * t, t broadcastable to (h, w)."""
        np.multiply(_col3(c1 - c0), t, out=self.fld)
        self.fld += _col3(c0)
        return self.fld

    def dist(self, cx: float, cy: float) -> np.ndarray:
        """Distance to (cx, cy) in image-height units (cx as a fraction of the width)."""
        dx = (self.X - cx) * F32(self.ar)
        dy = self.Y - cy
        return np.sqrt(dx * dx + dy * dy)

    def aa(self, signed: np.ndarray) -> np.ndarray:
        """Anti-aliased coverage of a signed distance in height units (> 0 inside)."""
        return np.clip(signed * F32(self.h) + 0.5, 0.0, 1.0)

    def under(self, top: np.ndarray) -> np.ndarray:
        """Anti-aliased area below a (1, w) profile, by distance across the edge (no stairs
        on steep slopes, which a purely vertical ramp would give)."""
        slope_px = np.gradient(top[0]).astype(F32)[None, :] * F32(self.h)
        scale = F32(self.h) / np.sqrt(1.0 + slope_px * slope_px)
        return np.clip((self.Y - top) * scale + 0.5, 0.0, 1.0)

    def cover(self, mask: np.ndarray, depth: float) -> None:
        self.open_sky *= 1.0 - mask
        self.depth += (F32(depth) - self.depth) * mask

    def mask_u8(self) -> np.ndarray:
        return np.zeros((self.h, self.w), np.uint8)


@dataclass
class _Finish:
    """Full-size finishing steps chosen while composing."""

    grain: float = 0.0
    sharpen: float = 0.0
    upscale: int = cv2.INTER_CUBIC
    letterbox: float = 0.0
    pixel: int = 0  # block size in output pixels, relative to 1024 on the short side
    voxel: int = 0
    greyscale: bool = False
    scanlines: bool = False
    seamless: bool = False
