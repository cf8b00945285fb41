"""The prompt's subjects as vector paths for ``re-craft/svg``.

The library's drawings (:mod:`engine.render.drawings`, OpenMoji, CC BY-SA 4.0) are SVG
already: each has a ``color`` layer of filled shapes and a ``line`` layer of black outlines
in a 72-unit box. :func:`shapes` reads one into the elements ``render_svg`` allows (an
ellipse becomes a path, a polyline a path), keeping only geometry whose every value is a
number (path data only commands and numbers, transforms only translate, scale, rotate and
matrix), so nothing of the file but its shapes reaches the document. :func:`subject_svg`
then restyles them for the chosen style, in a group placed where the subject belongs:

- line_art: the outlines in the ink, the colour shapes in the paper (so the scene's lines
  do not run through the subject);
- engraving: the outlines in the ink, and the subject's shading joins the tone map the
  hatching follows (:func:`engrave_tone`), so it is engraved like the rest;
- linocut: dark colour shapes in ink, light ones in paper, a paper cut around the
  silhouette and bold ink outlines (still two colours);
- line_circuit: the outlines as traces ending in pads, the shapes as the board.
"""

from __future__ import annotations

import functools
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

import cv2
import numpy as np

from engine.render.drawings import CREDIT, LICENCE, Drawing, bounds, raster, svg_source
from engine.render.subject_words import Subject

__all__ = ["SVG_CREDIT", "Placed", "Shape", "engrave_tone", "place", "shapes", "subject_svg"]

# The document's credit, in a <desc> (no address): an XML comment would be dropped by the
# gallery's sanitiser, which re-parses every SVG it stores and keeps <desc>.
SVG_CREDIT: str = f"<desc>{escape(CREDIT.split(' (http')[0])}</desc>"
assert "http" not in SVG_CREDIT and LICENCE in SVG_CREDIT

_NS = "{http://www.w3.org/2000/svg}"
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUM_RE = re.compile(_NUM)
_PATH_RE = re.compile(r"[MmLlHhVvCcSsQqTtAaZz0-9eE.,\s+-]*")
_POINTS_RE = re.compile(rf"\s*(?:{_NUM}[\s,]*)*")
_TRANSFORM_RE = re.compile(rf"\s*(?:(?:translate|scale|rotate|matrix)\((?:\s*{_NUM}[\s,]*)+\)\s*)+")
_GEOMETRY = {
    "path": ("d",),
    "circle": ("cx", "cy", "r"),
    "rect": ("x", "y", "width", "height", "rx", "ry"),
    "polygon": ("points",),
    "line": ("x1", "y1", "x2", "y2"),
}
_MAX_INSTANCES = 4


@dataclass(frozen=True)
class Shape:
    """One element of a drawing: its tag and geometry (allowed ones only), its layer and
    its original paint."""

    tag: str
    geometry: tuple[tuple[str, str], ...]
    line: bool  # from the outline layer
    fill: tuple[float, float, float] | None  # None: not filled
    stroked: bool

    def element(self, **paint: object) -> str:
        attrs = [f'{k}="{v}"' for k, v in self.geometry]
        attrs += [f'{k.replace("_", "-")}="{v}"' for k, v in paint.items()]
        return f"<{self.tag} {' '.join(attrs)}/>"

    def ends(self) -> list[tuple[float, float]]:
        """Where an outline starts and ends, roughly (for the circuit's pads)."""
        g = dict(self.geometry)
        if self.tag == "line":
            return [(float(g["x1"]), float(g["y1"])), (float(g["x2"]), float(g["y2"]))]
        if self.tag == "path" and g["d"].lstrip().startswith("M") and "transform" not in g:
            nums = _NUM_RE.findall(g["d"])
            if len(nums) >= 2:
                return [(float(nums[0]), float(nums[1]))]
        return []


def _colour(value: str | None) -> tuple[float, float, float] | None:
    """An OpenMoji paint (#rrggbb or #rgb) as RGB in 0..1; None for none or anything else."""
    if not value or not re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", value):
        return None
    digits = value[1:] if len(value) == 7 else "".join(c * 2 for c in value[1:])
    return tuple(int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _convert(el: ET.Element) -> tuple[str, dict[str, str]] | None:
    """The element as an allowed tag and its geometry, or None when it is not plain."""
    tag = el.tag.removeprefix(_NS)
    a = el.attrib
    if tag == "ellipse":
        try:
            cx, cy, rx, ry = (float(a[k]) for k in ("cx", "cy", "rx", "ry"))
        except (KeyError, ValueError):
            return None
        d = (
            f"M{cx - rx:.3f} {cy:.3f}A{rx:.3f} {ry:.3f} 0 1 0 {cx + rx:.3f} {cy:.3f}"
            f"A{rx:.3f} {ry:.3f} 0 1 0 {cx - rx:.3f} {cy:.3f}Z"
        )
        geo = {"d": d}
    elif tag == "polyline":
        nums = _NUM_RE.findall(a.get("points", ""))
        if len(nums) < 4 or not _POINTS_RE.fullmatch(a.get("points", "")):
            return None
        pairs = [f"{nums[i]} {nums[i + 1]}" for i in range(0, len(nums) - 1, 2)]
        geo = {"d": "M" + "L".join(pairs)}
        tag = "path"
    elif tag in _GEOMETRY:
        geo = {k: a[k] for k in _GEOMETRY[tag] if k in a}
        for k, v in geo.items():
            pattern = {"d": _PATH_RE, "points": _POINTS_RE}.get(k)
            ok = pattern.fullmatch(v) if pattern else re.fullmatch(_NUM, v.strip())
            if not ok:
                return None
    else:
        return None
    if tag == "ellipse":
        tag = "path"
    if "transform" in a:
        if not _TRANSFORM_RE.fullmatch(a["transform"]):
            return None
        geo["transform"] = a["transform"].strip()
    return tag, geo


@functools.lru_cache(maxsize=64)
def shapes(code: str) -> tuple[Shape, ...]:
    """The drawing's shapes, colour layers first, outlines last (as OpenMoji paints them)."""
    root = ET.fromstring(svg_source(code))  # noqa: S314 (the installed package's own files)
    out: list[Shape] = []
    for layer in root:
        _collect(layer, (layer.get("id") or "").startswith("line"), "", out)
    return tuple(out)


def _collect(group: ET.Element, line: bool, outer: str, out: list[Shape]) -> None:
    """The shapes under ``group``, a nested group's transform carried onto each of them."""
    for el in group:
        if el.tag.removeprefix(_NS) == "g":
            own = el.get("transform", "")
            if own and not _TRANSFORM_RE.fullmatch(own):
                continue
            _collect(el, line, f"{outer} {own.strip()}".strip(), out)
            continue
        conv = _convert(el)
        if conv is None:
            continue
        tag, geo = conv
        if outer:
            geo["transform"] = f"{outer} {geo.get('transform', '')}".strip()
        fill_attr = el.get("fill")
        stroked = el.get("stroke") not in (None, "none")
        fill = _colour(fill_attr) if fill_attr is not None else (0.0, 0.0, 0.0)
        if tag == "line":
            fill, stroked = None, True
        out.append(Shape(tag, tuple(geo.items()), line, fill, stroked))


@dataclass(frozen=True)
class Placed:
    """One instance of a subject in the picture: its box in 0..1 of the width and height."""

    drawing: Drawing
    x0: float
    y0: float
    x1: float
    y1: float
    flip: bool


def place(
    subjects: tuple[Subject, ...], horizon: float, ar: float, rng: np.random.Generator
) -> tuple[Placed, ...]:
    """Where each instance goes, by kind: on the ground below the horizon, in the sky, on
    the water at the horizon, under water, or (an object) large in the middle."""
    instances = [s.drawing for s in subjects for _ in range(s.count)][:_MAX_INSTANCES]
    n = len(instances)
    out: list[Placed] = []
    for i, d in enumerate(instances):
        size = {"building": 0.5, "sky": 0.26, "water": 0.34, "underwater": 0.36}.get(
            d.kind, 0.56 if d.kind == "object" else 0.42
        )
        size *= (1.0 if i == 0 else 0.8) / math.sqrt(max(1.0, n * 0.75))
        bx0, by0, bx1, by1 = bounds(d.code)
        aspect = (bx1 - bx0) / max(by1 - by0, 1e-3)
        half = size * aspect / ar / 2
        slot = (i + 0.5) / n if n > 1 else 0.5
        cx = slot + float(rng.uniform(-0.06, 0.06)) / max(1, n)
        cx = min(max(cx, half + 0.04), 1 - half - 0.04)
        jitter = float(rng.uniform(-0.03, 0.03))
        if d.kind == "sky":
            cy = horizon * 0.45 + jitter
            top = cy - size / 2
        elif d.kind == "underwater":
            top = 0.5 + jitter - size / 2
        elif d.kind == "water":
            top = horizon + 0.05 * (1 - horizon) - size * 0.88
        elif d.kind == "object":
            top = 0.92 - size
        else:
            top = min(0.95, horizon + (0.3 + 0.08 * (i % 2)) * (1 - horizon)) - size + jitter
        out.append(Placed(d, cx - half, top, cx + half, top + size, bool(rng.random() < 0.5)))
    return tuple(out)


def _transform(p: Placed, w: int, h: int) -> tuple[str, float]:
    """The group's transform from the drawing's box to its place, and the scale."""
    bx0, by0, _bx1, by1 = bounds(p.drawing.code)
    s = (p.y1 - p.y0) * h / max(by1 - by0, 1e-3)
    tx, ty = p.x0 * w - bx0 * s, p.y0 * h - by0 * s
    if p.flip:
        return f"translate({p.x1 * w + bx0 * s:.1f} {ty:.1f}) scale({-s:.4f} {s:.4f})", s
    return f"translate({tx:.1f} {ty:.1f}) scale({s:.4f})", s


def _mix_hex(a: str, b: str, t: float) -> str:
    ca, cb = _colour(a), _colour(b)
    assert ca is not None and cb is not None
    mixed = (round((x + (y - x) * t) * 255) for x, y in zip(ca, cb, strict=True))
    return "#" + "".join(f"{v:02x}" for v in mixed)


def _luma(c: tuple[float, float, float]) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def subject_svg(p: Placed, style: str, w: int, h: int, ink: str, paper: str) -> str:
    """One instance as a group of restyled shapes, in the document's units."""
    transform, s = _transform(p, w, h)
    line_w = max(1.5, w / 400) / s  # the scene's line width, in the drawing's units
    parts = shapes(p.drawing.code)
    colour = [q for q in parts if not q.line and q.fill is not None]
    lines = [q for q in parts if q.line]
    out: list[str] = []
    if style == "line_art":
        out += [q.element(fill=paper) for q in colour]
        out += [q.element(fill="none", stroke=ink, stroke_width=f"{line_w:.2f}") for q in lines]
    elif style == "engraving":
        out += [
            q.element(fill="none", stroke=ink, stroke_width=f"{line_w * 1.2:.2f}")
            if q.stroked or q.fill is None
            else q.element(fill=ink)
            for q in lines
        ]
    elif style == "linocut":
        cut = max(2.0, w / 300) / s
        out += [q.element(fill=paper, stroke=paper, stroke_width=f"{cut * 3:.2f}") for q in colour]
        out += [q.element(fill=ink if _luma(q.fill) < 0.45 else paper) for q in colour]  # type: ignore[arg-type]
        out += [
            q.element(fill="none", stroke=ink, stroke_width=f"{max(line_w * 1.6, 2.6):.2f}")
            if q.stroked or q.fill is None
            else q.element(fill=ink)
            for q in lines
        ]
    else:  # line_circuit
        board = _mix_hex(paper, ink, 0.22)  # a copper pour, so the subject stands out
        out += [q.element(fill=board) for q in colour]
        trace = max(1.8, min(w, h) / 36 * 0.26) / s
        out += [
            q.element(fill="none", stroke=ink, stroke_width=f"{trace:.2f}")
            for q in lines
            if q.stroked or q.fill is None
        ]
        pads = [e for q in lines if q.stroked or q.fill is None for e in q.ends()]
        out += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{trace * 1.3:.2f}" fill="{paper}" '
            f'stroke="{ink}" stroke-width="{trace * 0.8:.2f}"/>'
            for x, y in pads
        ]
    cap = 'stroke-linecap="round" stroke-linejoin="round"'
    return f'<g transform="{transform}" {cap}>' + "".join(out) + "</g>"


def engrave_tone(tone: np.ndarray, placed: tuple[Placed, ...]) -> np.ndarray:
    """The engraving's tone map (0 paper .. 1 ink, on a coarse grid) with each subject's
    shading in its place, so the hatching engraves the subject like the rest."""
    gh, gw = tone.shape
    tone = tone.copy()
    for p in placed:
        x0, y0 = round(p.x0 * gw), round(p.y0 * gh)
        pw, ph = max(1, round((p.x1 - p.x0) * gw)), max(1, round((p.y1 - p.y0) * gh))
        rgba = raster(p.drawing.code, max(8, ph))
        rgba = cv2.resize(rgba, (pw, ph), interpolation=cv2.INTER_AREA)
        if p.flip:
            rgba = rgba[:, ::-1]
        lum = rgba[:, :, :3] @ np.array([0.299, 0.587, 0.114], np.float32)
        own = 0.1 + 0.8 * (1 - lum)  # dark colours hatched densely, white left as paper
        alpha = rgba[:, :, 3]
        gx0, gy0 = max(0, x0), max(0, y0)
        gx1, gy1 = min(gw, x0 + pw), min(gh, y0 + ph)
        if gx1 <= gx0 or gy1 <= gy0:
            continue
        sl = (slice(gy0 - y0, gy1 - y0), slice(gx0 - x0, gx1 - x0))
        region = tone[gy0:gy1, gx0:gx1]
        tone[gy0:gy1, gx0:gx1] = region + (own[sl] - region) * alpha[sl]
    return tone
