"""Deterministic procedural SVG for ``re-craft/svg`` (styles engraving, line_art,
line_circuit, linocut).

Output is a standalone SVG 1.1 document made only of ``g``, ``path``, ``rect``, ``circle``,
``polygon`` and ``line`` elements: no raster images, scripts, event attributes or external
references. The scene (horizon, sun or moon, ridges, water, skyline, trees, a figure, or an
abstract flow) comes from the prompt through :mod:`engine.render.prompt`, all randomness from
a BLAKE2b-seeded PCG64 generator, and coordinates are printed with one decimal, so the same
request always gives the same text. ``model`` v3 draws more detail than v2.
Typical cost: 0.3-10 ms (engraving up to ~50 ms) and 2-31 KB for a 2048-pixel-wide canvas;
the prompt's subjects (:mod:`engine.render.svg_subject`) add 1-25 ms and ~5-20 KB.

One module of ~680 lines on purpose: the four styles are variations on one scene plan
(``_plan``) and share every path helper; apart, each would import nearly all the rest.
"""

from __future__ import annotations

import colorsys
import dataclasses
import hashlib
import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import numpy as np

from engine.render.prompt import COLOUR_WORDS, MOOD_WORDS, PromptTraits, analyse_prompt
from engine.render.subject_words import find_subjects
from engine.render.svg_subject import SVG_CREDIT, Placed, engrave_tone, place, subject_svg

__all__ = ["SVG_STYLES", "render_svg"]

SVG_STYLES: tuple[str, ...] = ("engraving", "line_art", "line_circuit", "linocut")


def _rng(*parts: object) -> np.random.Generator:
    h = hashlib.blake2b(digest_size=32, person=b"ojs-svg")
    for part in parts:
        h.update(str(part).encode("utf-8"))
        h.update(b"\x1f")
    return np.random.Generator(np.random.PCG64(int.from_bytes(h.digest(), "little")))


def _f(v: float) -> str:
    """Compact fixed-precision number (deterministic text, small files)."""
    s = f"{float(v):.1f}"
    s = s[:-2] if s.endswith(".0") else s
    return "0" if s == "-0" else s


def _d(*items: object) -> str:
    """Path data: strings are commands, numbers are coordinates (one decimal)."""
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        else:
            if out and not out[-1].isalpha():
                out.append(" ")
            out.append(_f(item))  # type: ignore[arg-type]
    return "".join(out)


def _el(tag: str, **attrs: object) -> str:
    """One empty element; ``stroke_width`` is written ``stroke-width``, numbers get one decimal."""
    parts = []
    for key, value in attrs.items():
        text = _f(value) if isinstance(value, (int, float)) else str(value)  # type: ignore[arg-type]
        parts.append(f'{key.replace("_", "-")}="{text}"')
    return f"<{tag} {' '.join(parts)}/>"


def _group(children: Iterable[str], **attrs: object) -> str:
    head = _el("g", **attrs)[:-2]
    return head + ">" + "".join(children) + "</g>"


def _paths(ds: Iterable[str]) -> list[str]:
    return [f'<path d="{d}"/>' for d in ds]


def _circle_d(cx: float, cy: float, r: float) -> str:
    """A full circle as path data (two half arcs)."""
    return _d("M", cx - r, cy, "A", r, r, 0, 1, 0, cx + r, cy, "A", r, r, 0, 1, 0, cx - r, cy, "Z")


def _hex(rgb: Iterable[float]) -> str:
    r, g, b = (max(0, min(255, round(c * 255))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _shade(rgb: tuple[float, float, float], value: float, sat: float = 1.0) -> tuple[float, ...]:
    h, s, _v = colorsys.rgb_to_hsv(*rgb)
    return colorsys.hsv_to_rgb(h, min(1.0, s * sat), max(0.0, min(1.0, value)))


def _noise1d(rng: np.random.Generator, n: int, cells: float, octaves: int) -> np.ndarray:
    """Smooth 1-D fractal noise sampled at n points, normalised to 0..1."""
    x = np.linspace(0, 1, n)
    out = np.zeros(n)
    amp, c = 1.0, cells
    for _ in range(octaves):
        k = max(2, round(c) + 2)
        lattice = rng.random(k)
        t = x * (k - 1)
        i = np.minimum(t.astype(int), k - 2)
        f = t - i
        f = f * f * (3 - 2 * f)
        out += amp * (lattice[i] * (1 - f) + lattice[i + 1] * f)
        amp *= 0.5
        c *= 2.1
    lo, hi = out.min(), out.max()
    return (out - lo) / max(hi - lo, 1e-9)


@dataclass(frozen=True)
class _Plan:
    """What the picture contains, in 0..1 coordinates (y down)."""

    horizon: float
    sun: tuple[float, float, float] | None  # cx, cy, r (r in height units)
    moon: bool
    mountains: bool
    water: bool
    city: bool
    forest: bool
    figure: bool
    stars: bool
    abstract: bool
    subjects: tuple[Placed, ...] = ()  # the library's drawings, placed (svg_subject)


def _plan(traits: PromptTraits, rng: np.random.Generator) -> _Plan:
    subj = set(traits.subjects)
    land = subj & {"mountain", "water", "forest", "city", "desert", "snow", "flowers"}
    abstract = not (land or subj & {"sun", "moon", "figure", "stars", "clouds"})
    horizon = float(rng.uniform(0.55, 0.68))
    sun = None
    if "sun" in subj or "moon" in subj or (not abstract and rng.random() < 0.4):
        sun = (
            float(rng.uniform(0.25, 0.75)),
            horizon - float(rng.uniform(0.12, 0.3)),
            float(rng.uniform(0.06, 0.1)),
        )
    water = "water" in subj or (bool(land) is False and not abstract and rng.random() < 0.5)
    mountains = bool(subj & {"mountain", "snow", "desert"}) or (
        not abstract and not water and not land
    )
    return _Plan(
        horizon=horizon,
        sun=sun,
        moon="moon" in subj and "sun" not in subj,
        mountains=mountains,
        water=water,
        city="city" in subj,
        forest="forest" in subj,
        figure="figure" in subj,
        stars="stars" in subj,
        abstract=abstract,
    )


def _ridge(rng: np.random.Generator, n: int, base: float, height: float, detail: int) -> np.ndarray:
    prof = _noise1d(rng, n, float(rng.uniform(2.0, 3.5)), 3 + detail)
    peaks = 1 - np.abs(_noise1d(rng, n, float(rng.uniform(2.5, 4.0)), 2 + detail) * 2 - 1)
    r = prof * 0.65 + peaks * 0.35
    r = (r - r.min()) / max(float(r.max() - r.min()), 1e-9)
    return base - height * r**1.3


def _smooth_path(points: list[tuple[float, float]], closed: bool = False) -> str:
    """Catmull-Rom through the points, written as cubic Bezier segments."""
    if len(points) < 3:
        return "M" + " L".join(f"{_f(x)} {_f(y)}" for x, y in points)
    pts = points + points[:2] if closed else [points[0], *points, points[-1]]
    d = [f"M{_f(pts[1][0])} {_f(pts[1][1])}"]
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        d.append(f"C{_f(c1[0])} {_f(c1[1])} {_f(c2[0])} {_f(c2[1])} {_f(p2[0])} {_f(p2[1])}")
    if closed:
        d.append("Z")
    return " ".join(d)


# --------------------------------------------------------------------------- engraving


def _darkness(plan: _Plan, rng: np.random.Generator, gw: int, gh: int, detail: int) -> np.ndarray:
    """Tone map (0 paper .. 1 ink) of the scene on a coarse grid."""
    ys = (np.arange(gh)[:, None] + 0.5) / gh
    xs = (np.arange(gw)[None, :] + 0.5) / gw
    ar = gw / gh
    hz = plan.horizon
    if plan.abstract:
        a = np.zeros((gh, gw))
        for _ in range(4 + detail):
            cx, cy = rng.uniform(0, 1, 2)
            fr = rng.uniform(3, 9)
            a += np.sin(
                ((xs - cx) * ar * np.cos(fr) + (ys - cy) * np.sin(fr)) * fr + rng.uniform(0, 6)
            )
        return np.clip(0.5 + a / (4 + detail) * 0.9, 0, 1)
    dark = np.broadcast_to(0.1 + 0.3 * (1 - ys / hz) ** 2, (gh, gw)).copy()
    if plan.sun:
        cx, cy, r = plan.sun
        d = np.sqrt(((xs - cx) * ar) ** 2 + (ys - cy) ** 2)
        dark = np.where(d < r, 0.0 if not plan.moon else 0.25, dark * np.clip(d / (r * 3), 0.3, 1))
    if plan.mountains:
        for i in range(2):
            top = _ridge(rng, gw, hz + 0.005, (0.28 - 0.1 * i), detail)[None, :]
            slope = np.gradient(top[0])[None, :] * gw
            near_crest = np.exp(-np.maximum(ys - top, 0) / 0.06)
            tone = 0.5 + 0.2 * i + np.clip(slope * 1.5, -0.3, 0.3) * near_crest
            dark = np.where(ys > top, tone, dark)
    if plan.city:
        x = 0.0
        while x < 1:
            bw = float(rng.uniform(0.03, 0.08))
            bh = float(rng.uniform(0.08, 0.3))
            inside = (xs >= x) & (xs < x + bw * 0.92) & (ys > hz - bh) & (ys <= hz)
            dark = np.where(inside, 0.8, dark)
            x += bw
    if plan.forest:
        for _ in range(8 + 4 * detail):
            x, th = float(rng.uniform(0, 1)), float(rng.uniform(0.1, 0.25))
            inside = (ys > hz - th + np.abs(xs - x) * ar * 4) & (ys <= hz + 0.01)
            dark = np.where(inside, 0.85, dark)
    if plan.water:
        band = 0.35 + 0.15 * np.sin((ys - hz) * 90 + np.sin(xs * 7) * 0.8)
        dark = np.where(ys > hz, band + (ys - hz) * 0.4, dark)
    else:
        dark = np.where(ys > hz + 0.01, np.maximum(dark, 0.45 + (ys - hz) * 0.6), dark)
    if plan.figure:
        dx, dy = (xs - 0.5) * ar, ys - 0.4
        head = (dx / 0.1) ** 2 + (dy / 0.13) ** 2 < 1
        half = 0.05 + 0.28 * np.clip((ys - 0.56) / 0.14, 0, 1)
        body = (np.abs(dx) < half) & (ys > 0.5)
        lit = np.clip(0.5 + dx * 3, 0, 1)
        dark = np.where(head | body, 0.35 + 0.5 * lit, dark)
    return np.clip(dark, 0, 1)


def _engraving(
    plan: _Plan, rng: np.random.Generator, w: int, h: int, ink: str, paper: str, detail: int
) -> list[str]:
    gh = 90 + 30 * detail
    gw = max(8, round(gh * w / h))
    tone = _darkness(plan, rng, gw, gh, detail)
    if plan.subjects:
        tone = engrave_tone(tone, plan.subjects)
    spacing = max(4.0, h / (120 + 40 * detail))
    widths: dict[int, list[str]] = {1: [], 2: [], 3: []}  # stroke-width class -> path data

    def runs(values: np.ndarray, threshold: float) -> list[tuple[int, int, int]]:
        """Runs (start, end, width class) where the tone is above the threshold."""
        out = []
        cls = np.where(values > threshold, np.clip((values * 3.2).astype(int), 1, 3), 0)
        start = None
        for i, c in enumerate(np.append(cls, 0)):
            if start is not None and c != cls[start]:
                out.append((start, i, int(cls[start])))
                start = None
            if start is None and c:
                start = i
        return out

    # Horizontal hatching: every line, thicker where the tone is darker.
    y = spacing / 2
    while y < h:
        gy = min(gh - 1, int(y / h * gh))
        yy = y + math.sin(y * 0.05) * spacing * 0.15
        for a, b, c in runs(tone[gy], 0.18):
            widths[c].append(_d("M", a / gw * w, yy, "H", b / gw * w))
        y += spacing
    # Diagonal cross-hatching in the darker masses.
    k = -h * 0.8
    while k < w:
        run: list[tuple[float, float]] = []
        for t in [*np.linspace(0, 1, 48), None]:
            on = False
            if t is not None:
                px, py = k + t * h * 0.8, t * h
                if 0 <= px < w:
                    on = tone[min(gh - 1, int(py / h * gh)), min(gw - 1, int(px / w * gw))] > 0.58
            if on:
                run.append((px, py))
            elif len(run) > 1:
                widths[1].append(_d("M", *run[0], "L", *run[-1]))
                run = []
            else:
                run = []
        k += spacing * 1.6
    base = max(0.6, spacing * 0.18)
    out = [_el("rect", width=w, height=h, fill=paper)]
    for c, ds in widths.items():
        if ds:
            out.append(
                _group(
                    _paths(ds),
                    fill="none",
                    stroke=ink,
                    stroke_width=base * c,
                    stroke_linecap="round",
                )
            )
    if plan.sun:
        cx, cy, r = plan.sun
        out.append(
            _el(
                "circle",
                cx=cx * w,
                cy=cy * h,
                r=r * h,
                fill="none",
                stroke=ink,
                stroke_width=base * 1.5,
            )
        )
    frame = dict(x=spacing, y=spacing, width=w - 2 * spacing, height=h - 2 * spacing)
    out.append(_el("rect", **frame, fill="none", stroke=ink, stroke_width=base * 3))
    return out


# --------------------------------------------------------------------------- line art


def _line_art(
    plan: _Plan, rng: np.random.Generator, w: int, h: int, ink: str, paper: str, detail: int
) -> list[str]:
    ds: list[str] = []
    n = 10 + 4 * detail
    hz = plan.horizon * h
    if plan.abstract:
        for i in range(5 + 2 * detail):
            y0 = h * (0.15 + 0.7 * i / (4 + 2 * detail))
            amp = h * float(rng.uniform(0.03, 0.12))
            ph, fr = float(rng.uniform(0, 6.3)), float(rng.uniform(1.0, 2.5))
            ts = np.linspace(-0.02, 1.02, n)
            ds.append(_smooth_path([(w * t, y0 + amp * math.sin(ph + t * fr * 6.28)) for t in ts]))
        cx, cy = float(rng.uniform(0.3, 0.7)) * w, float(rng.uniform(0.3, 0.7)) * h
        ds.append(_circle_d(cx, cy, h * 0.12))
    else:
        if plan.mountains:
            top = _ridge(rng, n, plan.horizon, 0.25, detail)
            ds.append(_smooth_path([(w * i / (n - 1), h * v) for i, v in enumerate(top)]))
        ds.append(_d("M", w * 0.04, hz, "H", w * 0.96))
        if plan.sun:
            cx, cy, r = plan.sun
            ds.append(_circle_d(cx * w, cy * h, r * h))
        if plan.water:
            for i in range(3 + detail):
                y = hz + (h - hz) * (0.2 + 0.7 * i / (3 + detail))
                x0 = w * float(rng.uniform(0.05, 0.5))
                length = w * float(rng.uniform(0.15, 0.4))
                ts = np.linspace(0, 1, 7)
                ds.append(
                    _smooth_path(
                        [(x0 + length * t, y + math.sin(t * 12.56) * h * 0.006) for t in ts]
                    )
                )
        if plan.forest:
            for _ in range(4 + 2 * detail):
                x = w * float(rng.uniform(0.05, 0.95))
                th = h * float(rng.uniform(0.12, 0.25))
                ds.append(_d("M", x, hz, "V", hz - th))
                ds.append(
                    _d(
                        "M",
                        x - th * 0.2,
                        hz - th * 0.4,
                        "L",
                        x,
                        hz - th,
                        "L",
                        x + th * 0.2,
                        hz - th * 0.4,
                    )
                )
        if plan.city:
            x, pts = w * 0.08, [(w * 0.08, hz)]
            while x < w * 0.92:
                bh = h * float(rng.uniform(0.06, 0.24))
                bw = w * float(rng.uniform(0.04, 0.09))
                pts += [(x, hz - bh), (min(x + bw, w * 0.92), hz - bh)]
                x += bw
                pts.append((min(x, w * 0.92), hz))
            ds.append(_d("M", *pts[0], *(v for p in pts[1:] for v in ("L", *p))))
        if plan.figure:
            cx, cy, r = w * 0.5, h * 0.38, h * 0.09
            ds.append(_circle_d(cx, cy, r))
            top = cy + r * 2.2
            ds.append(
                _d(
                    "M",
                    cx - r * 3,
                    h * 0.95,
                    "C",
                    cx - r * 3,
                    top,
                    cx + r * 3,
                    top,
                    cx + r * 3,
                    h * 0.95,
                )
            )
        for _ in range(2 + detail):  # a few birds
            bx, by = (
                w * float(rng.uniform(0.1, 0.9)),
                h * float(rng.uniform(0.1, plan.horizon * 0.6)),
            )
            bs = w * 0.015
            ds.append(
                _d("M", bx - bs, by, "Q", bx - bs / 2, by - bs * 0.6, bx, by)
                + _d("Q", bx + bs / 2, by - bs * 0.6, bx + bs, by)
            )
    stroke = dict(
        stroke=ink, stroke_width=max(1.5, w / 400), stroke_linecap="round", stroke_linejoin="round"
    )
    return [_el("rect", width=w, height=h, fill=paper), _group(_paths(ds), fill="none", **stroke)]


# --------------------------------------------------------------------------- circuit


def _line_circuit(
    plan: _Plan, rng: np.random.Generator, w: int, h: int, ink: str, paper: str, detail: int
) -> list[str]:
    step = min(w, h) / (28 + 8 * detail)
    nx, ny = int(w / step) - 1, int(h / step) - 1
    used = np.zeros((ny + 1, nx + 1), bool)
    chips = []
    for _ in range(1 + detail + int(plan.city)):
        cw, ch = int(rng.integers(4, 8)), int(rng.integers(3, 6))
        gx, gy = (
            int(rng.integers(2, max(3, nx - cw - 2))),
            int(rng.integers(2, max(3, ny - ch - 2))),
        )
        used[gy - 1 : gy + ch + 2, gx - 1 : gx + cw + 2] = True
        chips.append((gx, gy, cw, ch))
    traces, pads = [], []
    dirs = [(1, 0), (0, 1), (-1, 0), (0, -1)]
    for _ in range(40 + 25 * detail):
        gx, gy = int(rng.integers(0, nx + 1)), int(rng.integers(0, ny + 1))
        if used[gy, gx]:
            continue
        d = int(rng.integers(4))
        pts = [(gx, gy)]
        used[gy, gx] = True
        for _step in range(int(rng.integers(4, 30))):
            if rng.random() < 0.2:
                d = (d + (1 if rng.random() < 0.5 else 3)) % 4
            nx_, ny_ = gx + dirs[d][0], gy + dirs[d][1]
            if not (0 <= nx_ <= nx and 0 <= ny_ <= ny) or used[ny_, nx_]:
                break
            gx, gy = nx_, ny_
            used[gy, gx] = True
            pts.append((gx, gy))
        if len(pts) < 3:
            continue
        # Keep only the corners, so each trace is a few orthogonal segments.
        simple = [pts[0]]
        for a, b in itertools.pairwise(pts[1:]):
            prev = simple[-1]
            if (a[0] - prev[0]) * (b[1] - a[1]) != (a[1] - prev[1]) * (b[0] - a[0]):
                simple.append(a)
        simple.append(pts[-1])
        coords = [((x + 1) * step, (y + 1) * step) for x, y in simple]
        traces.append(_d("M", *coords[0], *(v for c in coords[1:] for v in ("L", *c))))
        pads += [coords[0], coords[-1]]
    sw = max(1.2, step * 0.18)
    out = [
        _el("rect", width=w, height=h, fill=paper),
        _group(
            _paths(traces),
            fill="none",
            stroke=ink,
            stroke_width=sw,
            stroke_linecap="round",
            stroke_linejoin="round",
        ),
        _group(
            (_el("circle", cx=x, cy=y, r=step * 0.28) for x, y in pads),
            fill=paper,
            stroke=ink,
            stroke_width=sw * 0.9,
        ),
    ]
    for gx, gy, cw, ch in chips:
        x, y = (gx + 1) * step, (gy + 1) * step
        pins = []
        for k in range(cw + 1):
            px = x + k * step
            pins.append(_el("line", x1=px, y1=y - step * 0.6, x2=px, y2=y))
            pins.append(_el("line", x1=px, y1=y + ch * step, x2=px, y2=y + (ch + 0.6) * step))
        out.append(_group(pins, stroke=ink, stroke_width=sw))
        body = dict(x=x, y=y, width=cw * step, height=ch * step, rx=step * 0.2)
        out.append(_el("rect", **body, fill=ink, fill_opacity=0.85))
    if plan.sun:
        cx, cy, r = plan.sun
        out.append(
            _el(
                "circle",
                cx=cx * w,
                cy=cy * h,
                r=r * h,
                fill="none",
                stroke=ink,
                stroke_width=sw * 2,
            )
        )
    return out


# --------------------------------------------------------------------------- linocut


def _linocut(
    plan: _Plan, rng: np.random.Generator, w: int, h: int, ink: str, paper: str, detail: int
) -> list[str]:
    black: list[str] = []  # ink shapes
    cuts: list[str] = []  # white gouges cut into the ink
    hz = plan.horizon * h
    if plan.abstract:
        for _ in range(5 + 2 * detail):
            cx, cy = float(rng.uniform(0.1, 0.9)) * w, float(rng.uniform(0.1, 0.9)) * h
            r = float(rng.uniform(0.08, 0.2)) * min(w, h)
            n = int(rng.integers(5, 9))
            pts = []
            for k in range(n):
                a = 2 * math.pi * k / n + float(rng.uniform(-0.2, 0.2))
                rr = r * float(rng.uniform(0.7, 1.2))
                pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
            black.append(f'<path d="{_smooth_path(pts, closed=True)}"/>')
            for k in (-1, 0, 1):
                y = cy + k * r * 0.3
                cuts.append(_d("M", cx - r * 0.5, y, "Q", cx, y - r * 0.2, cx + r * 0.5, y))
    else:
        if plan.sun:
            cx, cy, r = plan.sun[0] * w, plan.sun[1] * h, plan.sun[2] * h * 1.2
            rays = []
            for k in range(16):
                a0 = 2 * math.pi * k / 16
                a1, am = a0 + math.pi / 16, a0 + math.pi / 32
                rays.append(
                    _d("M", cx + r * 1.3 * math.cos(a0), cy + r * 1.3 * math.sin(a0))
                    + _d("L", cx + r * 2.3 * math.cos(am), cy + r * 2.3 * math.sin(am))
                    + _d("L", cx + r * 1.3 * math.cos(a1), cy + r * 1.3 * math.sin(a1), "Z")
                )
            black.append(f'<path d="{"".join(rays)}"/>')
            black.append(_el("circle", cx=cx, cy=cy, r=r))
            for k in range(1, 3 + detail):
                cuts.append(_circle_d(cx, cy, r * k / (3 + detail)))
        n = 24 + 12 * detail
        for i in range(2 if plan.mountains else 1):
            height = 0.28 - 0.08 * i if plan.mountains else 0.05
            top = _ridge(rng, n, plan.horizon + 0.005 + 0.06 * i, height, detail)
            pts = [(w * k / (n - 1), h * v) for k, v in enumerate(top)]
            poly = [*pts, (w, h), (0, h)]
            black.append(_el("polygon", points=" ".join(f"{_f(x)},{_f(y)}" for x, y in poly)))
            # Gouges that follow the slopes down from the crest.
            for k in range(2, n - 2, 2):
                x, y = pts[k]
                slope = (pts[k + 1][1] - pts[k - 1][1]) / 2
                length = h * float(rng.uniform(0.04, 0.1))
                cuts.append(_d("M", x, y + h * 0.015, "l", -slope * 0.6, length))
        if plan.city:
            x = 0.0
            while x < w:
                bw, bh = w * float(rng.uniform(0.04, 0.08)), h * float(rng.uniform(0.08, 0.26))
                black.append(_el("rect", x=x, y=hz - bh, width=bw * 0.9, height=bh + 1))
                for wy in np.arange(hz - bh + bh * 0.15, hz - bh * 0.1, bh * 0.18):
                    cuts.append(_d("M", x + bw * 0.2, wy, "H", x + bw * 0.7))
                x += bw
        if plan.water or not plan.mountains:
            black.append(_el("rect", x=0, y=hz, width=w, height=h - hz))
            rows = 6 + 3 * detail
            for k in range(rows):
                y = hz + (h - hz) * (k + 0.6) / rows
                amp = h * 0.008 * (1 + k * 0.3)
                xs = np.linspace(0, w, 16)
                cuts.append(_smooth_path([(x, y + amp * math.sin(x / w * 18 + k)) for x in xs]))
        if plan.forest:
            for _ in range(6 + 3 * detail):
                x, th = w * float(rng.uniform(0, 1)), h * float(rng.uniform(0.12, 0.26))
                tri = [(x, hz - th), (x - th * 0.25, hz + 2), (x + th * 0.25, hz + 2)]
                black.append(_el("polygon", points=" ".join(f"{_f(a)},{_f(b)}" for a, b in tri)))
        if plan.figure:
            cx, r = w * 0.5, h * 0.08
            black.append(_el("circle", cx=cx, cy=h * 0.45, r=r))
            x0, x1 = cx - r * 2.6, cx + r * 2.6
            black.append(
                f'<path d="{_d("M", x0, h, "C", x0, h * 0.56, x1, h * 0.56, x1, h, "Z")}"/>'
            )
        if plan.stars:
            s = h * 0.006
            for _ in range(20 + 10 * detail):
                x, y = w * float(rng.uniform(0, 1)), hz * float(rng.uniform(0, 0.8))
                star = _d("M", x - s, y, "L", x, y - s * 2, "L", x + s, y, "L", x, y + s * 2, "Z")
                black.append(f'<path d="{star}"/>')
    border = max(4.0, w / 80)
    frame = dict(x=border / 2, y=border / 2, width=w - border, height=h - border)
    cut_style = dict(stroke=paper, stroke_width=max(2.0, w / 300), stroke_linecap="round")
    return [
        _el("rect", width=w, height=h, fill=paper),
        _group(black, fill=ink),
        _group(_paths(cuts), fill="none", **cut_style),
        _el("rect", **frame, fill="none", stroke=ink, stroke_width=border),
    ]


# Characters XML 1.0 cannot carry, even escaped.
_XML_BAD = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_STYLE_INK = {
    "engraving": ((0.12, 0.1, 0.09), (0.96, 0.93, 0.85)),
    "line_art": ((0.1, 0.1, 0.12), (1.0, 1.0, 1.0)),
    "line_circuit": ((0.86, 0.66, 0.3), (0.04, 0.2, 0.15)),
    "linocut": ((0.06, 0.06, 0.06), (0.95, 0.92, 0.85)),
}


def render_svg(params: dict, size: tuple[int, int]) -> str:
    """An SVG document for the ``re-craft/svg`` request ``params`` at ``size`` (w, h)."""
    w, h = int(size[0]), int(size[1])
    if w < 1 or h < 1:
        raise ValueError(f"invalid size {size!r}")
    style = str(params.get("style") or "line_art")
    style = style if style in SVG_STYLES else "line_art"
    model = str(params.get("model") or "v3").lower()
    detail = 1 if model != "v2" else 0
    traits = analyse_prompt(
        str(params.get("prompt") or ""), str(params.get("negative_prompt") or "")
    )
    skip = set(COLOUR_WORDS) | set(MOOD_WORDS)
    content = " ".join(word for word in traits.words if word not in skip)
    seed = int(params.get("seed") or 0)
    rng = _rng(style, seed, model, content)
    ink_rgb, paper_rgb = _STYLE_INK[style]
    if traits.colours:
        c = tuple(v / 255 for v in traits.colours[0][1])
        if style == "line_circuit":
            ink_rgb = c  # the traces take the colour, the board a deep shade of it
            paper_rgb = _shade(c, 0.16, 0.8)
        else:
            _h, _s, v = colorsys.rgb_to_hsv(*c)
            ink_rgb = (
                _shade(c, min(v, 0.55), 1.1) if style != "line_art" else _shade(c, min(v, 0.7))
            )
            if len(traits.colours) > 1:
                c2 = tuple(v / 255 for v in traits.colours[1][1])
                paper_rgb = tuple(0.8 * p + 0.2 * q for p, q in zip(paper_rgb, c2, strict=True))
    plan = _plan(traits, rng)
    subjects = find_subjects(traits.prompt)
    unwanted = {d.drawing.name for d in find_subjects(traits.negative)}
    subjects = tuple(d for d in subjects if d.drawing.name not in unwanted)
    if subjects:  # a stream of their own: the scene stays as it is without them
        placed = place(subjects, plan.horizon, w / h, _rng(style, seed, model, content, "subjects"))
        plan = dataclasses.replace(plan, subjects=placed, abstract=False)
    draw = {
        "engraving": _engraving,
        "line_art": _line_art,
        "line_circuit": _line_circuit,
        "linocut": _linocut,
    }[style]
    ink, paper = _hex(ink_rgb), _hex(paper_rgb)
    body = draw(plan, rng, w, h, ink, paper, detail)
    if plan.subjects:  # in front of the scene, behind the engraving's and linocut's frame
        at = len(body) - 1 if style in ("engraving", "linocut") else len(body)
        body[at:at] = [
            SVG_CREDIT,
            *(subject_svg(q, style, w, h, ink, paper) for q in plan.subjects),
        ]
    label = quoteattr(_XML_BAD.sub("", f"{style}: {traits.prompt[:120]}"))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        f'role="img" aria-label={label}>' + "".join(body) + "</svg>\n"
    )
