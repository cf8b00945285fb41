"""sdxl/emoji: a glossy emoji on a transparent background (RGBA).

The prompt's words pick the object (a face, or a heart, star, cat or sun), its expression
and, with its colour words, the base colour. On a work canvas of about 512x512 pixels the
body's silhouette is drawn, shaded (gradient, darker rim, highlight), given the expression's
features and a soft contact shadow, then resized to the requested size. Shapes are OpenCV's
anti-aliased primitives drawn into 8-bit masks at 1/16 pixel (``shift=4``), then painted.

The seed's draws come in a fixed order (radius, expression when the words name none, hue,
eye and mouth sizes): keep it, or every emoji changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from engine.render.prompt import PromptTraits
from engine.render.text_to_image.noise import _WORK_AREA, F32, _blur, _rng, _smooth
from engine.render.text_to_image.palettes import Colour, _c, _col3, _darken, _hue_shift, _lighten
from engine.render.text_to_image.styles import _heart

_EXPRESSIONS: dict[str, tuple[str, ...]] = {
    "laugh": ("laugh", "laughing", "lol", "grin", "grinning", "excited", "joy", "haha"),
    "sad": ("sad", "cry", "crying", "tear", "tears", "unhappy", "upset", "sob"),
    "angry": ("angry", "mad", "rage", "furious", "grumpy", "annoyed"),
    "love": ("love", "loving", "adore", "romantic", "crush", "hearts"),
    "cool": ("cool", "sunglasses", "chill", "swag", "shades"),
    "surprised": ("surprised", "shocked", "wow", "amazed", "omg", "astonished", "shock"),
    "wink": ("wink", "winking", "flirty", "cheeky"),
    "sleepy": ("sleepy", "tired", "sleeping", "sleep", "bored", "yawn"),
    "kiss": ("kiss", "kissing", "smooch"),
    "smile": ("smile", "smiling", "happy", "glad", "cheerful", "smiley"),
}
_EMOJI_INK = (0.36, 0.22, 0.12)
# The objects that wear a face, and the expressions that blush.
_WITH_FACE = ("face", "cat", "sun", "star")
_BLUSHING = ("smile", "love", "kiss", "wink", "laugh")
_FILLED = -1  # OpenCV's thickness for a filled shape
Draw = Callable[[np.ndarray], object]


def _emoji_expression(words: tuple[str, ...], rng: np.random.Generator) -> str:
    for name, vocab in _EXPRESSIONS.items():
        if any(w in vocab for w in words):
            return name
    return str(rng.choice(["smile", "laugh", "wink", "cool", "love", "surprised"]))


def _emoji_object(words: tuple[str, ...]) -> str:
    """A face, unless the words name a heart, star, cat or sun (a cat or a sun keeps its
    face; a heart or a star named beside "face" is a face)."""
    is_face = any(x in words for x in ("face", "eyes", "smiley", "emoji", "eye"))
    if "heart" in words and not is_face:
        return "heart"
    if any(x in words for x in ("star", "stars")) and not is_face:
        return "star"
    if any(x in words for x in ("cat", "kitty", "kitten")):
        return "cat"
    if any(x in words for x in ("sun", "sunny", "sunshine")):
        return "sun"
    return "face"


def _base_colour(
    traits: PromptTraits, obj: str, expression: str, rng: np.random.Generator
) -> Colour:
    """The prompt's first colour, else the object's or the mood's own, a little jittered."""
    if traits.colours:
        base = _c(tuple(v / 255 for v in traits.colours[0][1]))
    elif obj == "heart":
        base = _c("#ff3b5c")
    elif expression == "angry":
        base = _c("#ff7a3d")
    elif obj == "cat":
        base = _c("#ffb347")
    else:
        base = _c("#ffcf3a")
    return _hue_shift(base, float(rng.uniform(-0.015, 0.015)))


def _p16(x: float, y: float) -> tuple[int, int]:
    """A point in OpenCV's fixed point (shift=4: 1/16 pixel)."""
    return (round(x * 16), round(y * 16))


def _r16(v: float) -> int:
    """A length in OpenCV's fixed point, at least one unit."""
    return max(1, round(v * 16))


def _ellipse(
    m: np.ndarray,
    centre: tuple[float, float],
    axes: tuple[float, float],
    arc: tuple[int, int],
    thickness: int,
) -> None:
    """An anti-aliased elliptic arc (``arc``: start and end degrees), or a filled one."""
    axes16 = (_r16(axes[0]), _r16(axes[1]))
    cv2.ellipse(m, _p16(*centre), axes16, 0, arc[0], arc[1], 255, thickness, cv2.LINE_AA, 4)


def _line(m: np.ndarray, a: tuple[float, float], b: tuple[float, float], thickness: int) -> None:
    cv2.line(m, _p16(*a), _p16(*b), 255, thickness, cv2.LINE_AA, 4)


def _polygons(m: np.ndarray, polygons: list[np.ndarray]) -> None:
    cv2.fillPoly(m, polygons, 255, cv2.LINE_AA, 4)


def _triangle(*points: tuple[float, float]) -> np.ndarray:
    return np.array([_p16(*p) for p in points], np.int32)


@dataclass(frozen=True)
class _Canvas:
    """One emoji's work canvas: its size, the body's centre and radius, pixel centres."""

    w: int
    h: int
    cx: float
    cy: float
    radius: float
    xs: np.ndarray  # (1, w) pixel centres
    ys: np.ndarray  # (h, 1)

    def mask(self, draw: Draw) -> np.ndarray:
        """What ``draw`` draws into an 8-bit plane, as a 0..1 coverage mask."""
        m = np.zeros((self.h, self.w), np.uint8)
        draw(m)
        return m.astype(F32) * F32(1 / 255)

    def around(self, x: float, rx: float, y: float, ry: float) -> np.ndarray:
        """Elliptic distance from (x, y) with radii (rx, ry): 1 on the ellipse."""
        return np.sqrt(((self.xs - x) / rx) ** 2 + ((self.ys - y) / ry) ** 2)


# --------------------------------------------------------------------------- the body


def _star_body(c: _Canvas) -> np.ndarray:
    pts = []
    for k in range(10):
        r = c.radius * (1.05 if k % 2 == 0 else 0.45)
        a = -math.pi / 2 + math.pi / 5 * k
        pts.append((c.cx + r * math.cos(a), c.cy + c.radius * 0.06 + r * math.sin(a)))
    star = np.round(np.array(pts) * 16).astype(np.int32)
    body = c.mask(lambda m: _polygons(m, [star]))
    return np.clip(_blur(body, c.radius * 0.03) * 1.3, 0, 1)  # soften the points a little


def _cat_ears(c: _Canvas) -> np.ndarray:
    cx, cy, radius = c.cx, c.cy, c.radius
    ears = [
        _triangle(
            (cx + side * radius * 0.95, cy - radius * 0.25),
            (cx + side * radius * 0.75, cy - radius * 1.12),
            (cx + side * radius * 0.2, cy - radius * 0.85),
        )
        for side in (-1, 1)
    ]
    return c.mask(lambda m: _polygons(m, ears))


def _sun_rays(c: _Canvas) -> np.ndarray:
    cx, cy, radius = c.cx, c.cy, c.radius
    rays = []
    for k in range(12):
        a = 2 * math.pi * k / 12
        tip = (cx + math.cos(a) * radius * 1.18, cy + math.sin(a) * radius * 1.18)
        l1 = (cx + math.cos(a - 0.13) * radius * 0.9, cy + math.sin(a - 0.13) * radius * 0.9)
        l2 = (cx + math.cos(a + 0.13) * radius * 0.9, cy + math.sin(a + 0.13) * radius * 0.9)
        rays.append(_triangle(tip, l1, l2))
    return c.mask(lambda m: _polygons(m, rays))


def _body(c: _Canvas, obj: str) -> np.ndarray:
    """The object's silhouette, as coverage."""
    if obj == "heart":
        heart = _heart(c.cx, c.cy + c.radius * 0.05, c.radius * 1.0)
        return c.mask(lambda m: _polygons(m, [heart]))
    if obj == "star":
        return _star_body(c)
    d = np.sqrt((c.xs - c.cx) ** 2 + (c.ys - c.cy) ** 2)
    body = np.clip((F32(c.radius) - d) + 0.5, 0, 1)
    if obj == "cat":
        body = np.maximum(body, _cat_ears(c))
    if obj == "sun":
        body = np.maximum(body, _sun_rays(c))
    return body


def _shaded(c: _Canvas, body: np.ndarray, top: Colour, bottom: Colour, rim: Colour) -> np.ndarray:
    """The body's colour (3, h, w): vertical gradient, darker rim, glossy highlight on top."""
    h, w, cx, cy, radius = c.h, c.w, c.cx, c.cy, c.radius
    t = np.clip((c.ys - (cy - radius)) / (2 * radius), 0, 1)
    col = np.empty((3, h, w), F32)
    np.multiply(_col3(bottom - top), t * np.ones((1, w), F32), out=col)
    col += _col3(top)
    edge = _smooth(0.0, radius * 0.25, _blur(body, radius * 0.08) * radius * 0.6)
    col += (_col3(rim) - col) * ((1 - edge) * F32(0.55))[None]
    hl = c.around(cx, radius * 0.55, cy - radius * 0.58, radius * 0.28)
    col += (1 - col) * (_smooth(1.0, 0.2, hl) * F32(0.45) * body)[None]
    return col


# --------------------------------------------------------------------------- the face


@dataclass
class _Face:
    """Where an object's features go, and the colour plane they are painted on."""

    c: _Canvas
    col: np.ndarray
    ex: float  # eyes at cx ± ex, height ey
    ey: float
    eye_w: float
    eye_h: float
    mouth_w: float
    mouth_y: float
    thick: int  # line width, in pixels

    @classmethod
    def measure(cls, c: _Canvas, col: np.ndarray, obj: str, rng: np.random.Generator) -> _Face:
        radius = c.radius
        ex, ey = radius * 0.33, c.cy - radius * 0.15
        eye_w = radius * float(rng.uniform(0.08, 0.1))
        eye_h = radius * float(rng.uniform(0.14, 0.17))
        mouth_w = radius * float(rng.uniform(0.4, 0.5))
        thick = max(1, round(radius * 0.065))
        if obj == "star":  # a small face in the middle
            eye_w, eye_h, mouth_w = eye_w * 0.6, eye_h * 0.6, mouth_w * 0.6
            ex, ey = radius * 0.2, c.cy
        mouth_y = ey + radius * (0.42 if obj != "star" else 0.22)
        return cls(c, col, ex, ey, eye_w, eye_h, mouth_w, mouth_y, thick)

    def paint(self, colour: Colour, m: np.ndarray) -> None:
        self.col[:] += (_col3(colour) - self.col) * m[None]

    def draw(self, colour: Colour, draw: Draw) -> None:
        self.paint(colour, self.c.mask(draw))

    def open_eyes(self, m: np.ndarray, big: float = 1.0) -> None:
        for side in (-1, 1):
            centre = (self.c.cx + side * self.ex, self.ey)
            _ellipse(m, centre, (self.eye_w * big, self.eye_h * big), (0, 360), _FILLED)

    def arc_eyes(self, m: np.ndarray, up: bool) -> None:
        """Closed eyes: arcs up (laughing) or down (asleep)."""
        for side in (-1, 1):
            arc = (200, 340) if up else (20, 160)
            y = self.ey + (self.eye_h * 0.3 if up else -self.eye_h * 0.3)
            axes = (self.eye_w * 1.6, self.eye_h * 0.7)
            _ellipse(m, (self.c.cx + side * self.ex, y), axes, arc, self.thick)

    def smile(self, m: np.ndarray, width: float = 1.0, curve: float = 0.55) -> None:
        centre = (self.c.cx, self.mouth_y - self.c.radius * 0.12)
        axes = (self.mouth_w * width, self.mouth_w * curve)
        _ellipse(m, centre, axes, (15, 165), self.thick)


def _cheeks(f: _Face) -> None:
    c = f.c
    cheeks = np.zeros((c.h, c.w), F32)
    for side in (-1, 1):
        x = c.cx + side * c.radius * 0.55
        dd = c.around(x, c.radius * 0.17, f.ey + c.radius * 0.3, c.radius * 0.1)
        cheeks = np.maximum(cheeks, _smooth(1.0, 0.0, dd))
    f.paint(_c("#ff6f7d"), cheeks * F32(0.45))


def _smile(f: _Face, ink: Colour) -> None:
    f.draw(ink, f.open_eyes)
    f.draw(ink, f.smile)


def _laugh(f: _Face, ink: Colour) -> None:
    c = f.c
    f.draw(ink, lambda m: f.arc_eyes(m, True))
    top = f.mouth_y - c.radius * 0.1
    mouth = c.mask(
        lambda m: _ellipse(m, (c.cx, top), (f.mouth_w, f.mouth_w * 0.75), (0, 180), _FILLED)
    )
    f.paint(_c("#5a1f1f"), mouth)
    f.paint(_c("#ffffff"), mouth * (c.ys < top + c.radius * 0.14))  # the teeth
    tongue = c.around(c.cx, f.mouth_w * 0.55, f.mouth_y + c.radius * 0.32, c.radius * 0.18)
    f.paint(_c("#ff5f7a"), mouth * _smooth(1.0, 0.8, tongue))


def _sad(f: _Face, ink: Colour) -> None:
    c, ex, ey = f.c, f.ex, f.ey
    f.draw(ink, f.open_eyes)
    frown = ((c.cx, f.mouth_y + c.radius * 0.2), (f.mouth_w * 0.8, f.mouth_w * 0.4))
    f.draw(ink, lambda m: _ellipse(m, *frown, (200, 340), f.thick))
    drop = _triangle(
        (c.cx + ex, ey + f.eye_h * 1.1),
        (c.cx + ex - c.radius * 0.07, ey + c.radius * 0.42),
        (c.cx + ex + c.radius * 0.07, ey + c.radius * 0.42),
    )
    drop_end = _p16(c.cx + ex, ey + c.radius * 0.43)

    def tear(m: np.ndarray) -> None:
        _polygons(m, [drop])
        cv2.circle(m, drop_end, _r16(c.radius * 0.075), 255, _FILLED, cv2.LINE_AA, 4)

    f.draw(_c("#4fb3ff"), tear)


def _angry(f: _Face, ink: Colour) -> None:
    c, ex, ey = f.c, f.ex, f.ey
    f.draw(ink, f.open_eyes)
    for side in (-1, 1):
        brow = (
            (c.cx + side * ex * 1.5, ey - f.eye_h * 1.5),
            (c.cx + side * ex * 0.35, ey - f.eye_h * 0.9),
        )
        f.draw(ink, lambda m, brow=brow: _line(m, *brow, f.thick))
    frown = ((c.cx, f.mouth_y + c.radius * 0.15), (f.mouth_w * 0.6, f.mouth_w * 0.25))
    f.draw(ink, lambda m: _ellipse(m, *frown, (200, 340), f.thick))


def _love(f: _Face, ink: Colour) -> None:
    c, size = f.c, f.eye_h * 1.7
    hearts = [_heart(c.cx - f.ex, f.ey, size), _heart(c.cx + f.ex, f.ey, size)]
    f.draw(_c("#f0304f"), lambda m: _polygons(m, hearts))
    f.draw(ink, f.smile)


def _cool(f: _Face, ink: Colour) -> None:
    c, ex, ey = f.c, f.ex, f.ey

    def sunglasses(m: np.ndarray) -> None:
        for sd in (-1, 1):
            lens = (c.cx + sd * ex * 1.05, ey)
            _ellipse(m, lens, (c.radius * 0.27, c.radius * 0.19), (0, 360), _FILLED)
        bridge = ey - c.radius * 0.08
        _line(m, (c.cx - ex, bridge), (c.cx + ex, bridge), f.thick)

    lens = c.mask(sunglasses)
    f.paint(_c("#161616"), lens)
    slant = np.abs((c.xs - c.cx) * 0.4 + (c.ys - ey) * 1.2 + c.radius * 0.1) / (c.radius * 0.08)
    f.paint(_c("#6f6f6f"), lens * _smooth(1.0, 0.3, slant) * F32(0.6))  # the glint
    f.draw(ink, lambda m: f.smile(m, 0.8, 0.35))


def _surprised(f: _Face, ink: Colour) -> None:
    c = f.c
    f.draw(ink, lambda m: f.open_eyes(m, 1.2))
    mouth = ((c.cx, f.mouth_y + c.radius * 0.05), (c.radius * 0.15, c.radius * 0.2))
    f.draw(_c("#4a1a10"), lambda m: _ellipse(m, *mouth, (0, 360), _FILLED))


def _wink(f: _Face, ink: Colour) -> None:
    c, ex, ey = f.c, f.ex, f.ey
    f.draw(ink, lambda m: _ellipse(m, (c.cx - ex, ey), (f.eye_w, f.eye_h), (0, 360), _FILLED))
    closed = ((c.cx + ex, ey + f.eye_h * 0.3), (f.eye_w * 1.6, f.eye_h * 0.7))
    f.draw(ink, lambda m: _ellipse(m, *closed, (200, 340), f.thick))
    f.draw(ink, f.smile)
    tongue = (
        (c.cx + f.mouth_w * 0.3, f.mouth_y + c.radius * 0.02),
        (c.radius * 0.1, c.radius * 0.12),
    )
    f.draw(_c("#ff5f7a"), lambda m: _ellipse(m, *tongue, (0, 180), _FILLED))


def _sleepy(f: _Face, ink: Colour) -> None:
    c = f.c
    f.draw(ink, lambda m: f.arc_eyes(m, False))
    mouth = ((c.cx, f.mouth_y + c.radius * 0.05), (c.radius * 0.08, c.radius * 0.1))
    f.draw(ink, lambda m: _ellipse(m, *mouth, (0, 360), f.thick))


def _kiss(f: _Face, ink: Colour) -> None:
    c = f.c
    f.draw(ink, lambda m: f.arc_eyes(m, False))

    def pucker(m: np.ndarray) -> None:
        for dy in (-c.radius * 0.06, c.radius * 0.06):
            centre = (c.cx + c.radius * 0.02, f.mouth_y + dy)
            _ellipse(m, centre, (c.radius * 0.08, c.radius * 0.06), (270, 450), f.thick)

    f.draw(ink, pucker)
    heart = _heart(c.cx + c.radius * 0.45, f.mouth_y - c.radius * 0.05, c.radius * 0.12)
    f.draw(_c("#f0304f"), lambda m: _polygons(m, [heart]))


_PAINT_EXPRESSION: dict[str, Callable[[_Face, Colour], None]] = {
    "smile": _smile,
    "laugh": _laugh,
    "sad": _sad,
    "angry": _angry,
    "love": _love,
    "cool": _cool,
    "surprised": _surprised,
    "wink": _wink,
    "sleepy": _sleepy,
    "kiss": _kiss,
}


def _cat_face(f: _Face, ink: Colour) -> None:
    """A cat's nose and whiskers, over the expression."""
    c, ey, radius = f.c, f.ey, f.c.radius
    nose = _triangle(
        (c.cx - radius * 0.07, ey + radius * 0.22),
        (c.cx + radius * 0.07, ey + radius * 0.22),
        (c.cx, ey + radius * 0.3),
    )
    f.draw(_c("#ff8fa3"), lambda m: _polygons(m, [nose]))

    def whiskers(m: np.ndarray) -> None:
        for sd in (-1, 1):
            for k in (0, 1):
                root = (c.cx + sd * radius * 0.25, ey + radius * (0.3 + k * 0.08))
                tip = (c.cx + sd * radius * 0.85, ey + radius * (0.22 + k * 0.16))
                _line(m, root, tip, max(1, f.thick // 2))

    f.paint(ink, c.mask(whiskers) * F32(0.8))


# --------------------------------------------------------------------------- the whole


def _with_shadow(
    c: _Canvas, col: np.ndarray, body: np.ndarray, rim: Colour, width: int, height: int
) -> Image.Image:
    """The RGBA image at full size: the body over a soft contact shadow, kept well inside
    the canvas so that the corners stay transparent."""
    sd = c.around(c.cx, c.radius * 0.75, c.cy + c.radius * 1.02, c.radius * 0.09)
    shadow = _smooth(1.0, 0.0, sd) * F32(0.28)
    alpha = body + shadow * (1 - body)
    safe = np.maximum(alpha, 1e-6)
    col = (col * body[None] + F32(0.1) * (shadow * (1 - body))[None]) / safe[None]
    col = np.where(alpha[None] > 1e-4, col, _col3(rim))  # transparent pixels keep the rim colour
    rgba = np.concatenate([np.clip(col, 0, 1), alpha[None]], 0)
    u8 = cv2.convertScaleAbs(cv2.merge([rgba[0], rgba[1], rgba[2], rgba[3]]), alpha=255.0)
    full = cv2.resize(u8, (width, height), interpolation=cv2.INTER_LINEAR)
    if full.ndim == 2:
        full = full[:, :, None]
    return Image.fromarray(np.ascontiguousarray(full))


def _render_emoji(traits: PromptTraits, key: bytes, width: int, height: int) -> Image.Image:
    """An Apple-style glossy emoji on a transparent background (RGBA)."""
    scale = max(1.0, math.sqrt(width * height / _WORK_AREA))
    w, h = max(32, round(width / scale)), max(32, round(height / scale))
    rng = _rng(key, "emoji")
    words = traits.words
    u = min(w, h)
    xs = (np.arange(w, dtype=F32) + 0.5)[None, :]
    ys = (np.arange(h, dtype=F32) + 0.5)[:, None]
    radius = u * float(rng.uniform(0.39, 0.42))
    canvas = _Canvas(w, h, w / 2, h / 2 - u * 0.01, radius, xs, ys)

    obj = _emoji_object(words)
    expression = _emoji_expression(words, rng)
    if obj == "star" and expression == "cool":
        expression = "smile"  # sunglasses do not fit on a star's small face
    base = _base_colour(traits, obj, expression, rng)
    top, bottom = _lighten(base, 0.35), _darken(_hue_shift(base, -0.03), 0.12)
    rim = _darken(_hue_shift(base, -0.05), 0.3)

    body = _body(canvas, obj)
    col = _shaded(canvas, body, top, bottom, rim)
    face = _Face.measure(canvas, col, obj, rng)
    if obj in _WITH_FACE:
        ink = _c(_EMOJI_INK)
        if expression in _BLUSHING:
            _cheeks(face)
        _PAINT_EXPRESSION[expression](face, ink)
        if obj == "cat":
            _cat_face(face, ink)
    return _with_shadow(canvas, face.col, body, rim, width, height)
