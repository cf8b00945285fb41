"""Scene layers of subjects, and whole scenes other than a landscape: the figure, a bokeh
backdrop, the domain-warped abstract field, a meadow, synthwave, a seamless pattern.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.render.drawings import word_set
from engine.render.text_to_image.drawn import subject_boxes
from engine.render.text_to_image.noise import F32, _blur, _fbm1d, _smooth
from engine.render.text_to_image.palettes import (
    Colour,
    _c,
    _col3,
    _darken,
    _hue_shift,
    _lighten,
    _mix,
)
from engine.render.text_to_image.scene import _Scene
from engine.render.text_to_image.sky import _stars

_OLD = word_set(
    "old elderly aged senior grandfather grandpa grandmother grandma granny wizard grey gray "
    "greying graying"
)
_CHILD = word_set("child children kid kids boy girl baby toddler")
_BEARD = word_set("beard bearded beards")
_MOUSTACHE = word_set("moustache mustache moustached mustached")


def _person(words: tuple[str, ...]) -> tuple[str, bool, bool]:
    """The portrait's age ("old", "child" or ""), and whether a beard or moustache."""
    ws = set(words)
    age = "old" if ws & _OLD else "child" if ws & _CHILD else ""
    beard = bool(ws & _BEARD)
    return age, beard, beard or bool(ws & _MOUSTACHE)


def _figure(s: _Scene, large: bool) -> None:
    p = s.p
    rng = s.rng("figure")
    side = 1.0 if rng.random() < 0.5 else -1.0
    skin = _mix(_mix(_c((0.8, 0.6, 0.48)), p.accent, 0.2), p.horizon, 0.1)
    if large:
        age, beard, moustache = _person(s.traits.words)
        cx = 0.5 + float(rng.uniform(-0.05, 0.05)) / s.ar
        cy, rx, ry = 0.355, 0.1, 0.13
        if age == "child":  # a bigger head on narrower, lower shoulders
            cy, rx, ry = 0.39, 0.112, 0.142
        dx = (s.X - F32(cx)) * F32(s.ar)
        dy = s.Y - F32(cy)
        rxj = F32(rx) * (1 - F32(0.2) * _smooth(0.0, ry, dy))  # egg shape: narrower at the chin
        e = np.sqrt(np.square(dx / rxj) + np.square(dy / F32(ry)))
        head = s.aa((1 - e) * F32(ry))
        half = F32(0.046) + F32(0.29) * _smooth(0.56, 0.7, s.Y) + F32(0.05) * _smooth(0.7, 1.0, s.Y)
        if age == "child":
            half = (
                F32(0.04) + F32(0.2) * _smooth(0.62, 0.78, s.Y) + F32(0.04) * _smooth(0.78, 1, s.Y)
            )
        torso = s.aa(np.minimum(half - np.abs(dx), s.Y - F32(cy + ry * 0.55)))
        body = np.maximum(head, torso)
        # Volume: sphere shading on the head, cylinder shading on neck and shoulders.
        nz = np.sqrt(np.clip(1 - e * e, 0, 1))
        lam_head = np.clip(
            (dx / rxj) * F32(0.55 * side) - (dy / F32(ry)) * F32(0.3) + nz * F32(0.75), 0, 1
        )
        u = np.clip(dx / half, -1, 1)
        lam_body = np.clip(u * F32(0.55 * side) + np.sqrt(1 - u * u) * F32(0.75), 0, 1)
        lam = np.where(e < 1, lam_head, lam_body)
        s.gradient_field(_darken(_mix(skin, p.land_near, 0.5), 0.3), _lighten(skin, 0.1), lam)
        neckline = F32(0.6) + np.maximum(F32(0.075) - np.abs(dx), 0) * F32(0.9)
        cloth = torso * _smooth(0.0, 0.006, s.Y - neckline)
        cloth_col = _mix(p.accent2, p.land_near, 0.5)
        np.multiply(_col3(cloth_col), (0.35 + 0.75 * lam_body)[None], out=s.tmp)
        s.tmp -= s.fld
        s.tmp *= cloth
        s.fld += s.tmp
        # Hair: a cap over the crown, falling to the jaw (or the shoulders) at the sides.
        long_hair = float(rng.uniform(0.05, 0.3))
        wave = (s.fbm("hair", 12.0, 3, stretch=0.4) - 0.5) * F32(0.03)
        hy = s.Y - F32(cy - 0.015)
        hx = dx / F32(rx * 1.16)
        cap = s.aa((1 - np.sqrt(hx * hx + np.square(hy / F32(ry * 1.1)))) * F32(0.1))
        crown = _smooth(-0.005, 0.02, F32(-ry * 0.3) - dy + wave + np.square(dx) * F32(3.0))
        sides = _smooth(0.0, 0.015, np.abs(dx) - F32(rx * 0.72) + wave)
        fall = s.aa(np.minimum(F32(rx * 1.3) - np.abs(dx), F32(long_hair) - dy + wave)) * (dy > 0)
        hair = np.maximum(cap * np.maximum(crown, sides), fall * sides)
        hair_col = _darken(
            _mix(_c((0.25, 0.16, 0.1)), p.accent, 0.25), float(rng.uniform(0.0, 0.5))
        )
        if age == "old":  # grey to white
            hair_col = _mix(_c((0.8, 0.8, 0.82)), hair_col, 0.12)
        if moustache:
            hair = np.maximum(hair, _beard(s, dx, dy, rx, ry, beard, wave))
        s.tmp[:] = _col3(hair_col) * (0.5 + 0.7 * lam_head)[None]
        s.tmp -= s.fld
        s.tmp *= hair
        s.fld += s.tmp
        body = np.maximum(body, hair)
        lit_side = np.clip(0.5 + dx * F32(side * 4), 0, 1)
    else:
        cx = 0.5 + float(rng.uniform(-0.2, 0.2))
        foot = s.hz + 0.12
        hgt = 0.16
        mask = s.mask_u8()
        w, h = s.w, s.h

        def pt(x: float, y: float) -> tuple[int, int]:
            return (round((cx + x / s.ar) * w * 16), round(y * h * 16))

        poly = np.array(
            [
                pt(-0.03, foot - hgt * 0.78),
                pt(0.03, foot - hgt * 0.78),
                pt(0.045, foot),
                pt(-0.045, foot),
            ],
            np.int32,
        )
        cv2.fillPoly(mask, [poly], 255, cv2.LINE_AA, shift=4)
        cv2.circle(
            mask, pt(0, foot - hgt * 0.87), round(hgt * 0.11 * h * 16), 255, -1, cv2.LINE_AA, 4
        )
        body = mask.astype(F32) * F32(1 / 255)
        dx = (s.X - F32(cx)) * F32(s.ar)
        lit_side = np.clip(0.5 + dx * F32(side * 20), 0, 1)
        dark = _darken(_mix(skin, p.land_near, 0.85), 0.3)
        s.gradient_field(dark, _mix(dark, p.light, 0.15), lit_side)
    s.paint(s.fld, body)
    # Rim light: the figure's edge on the lit side catches the light.
    edge = np.clip(body - _blur(body, 2.0 if large else 1.0), 0, 1) * 2.5 * lit_side
    s.add(_mix(p.light, p.accent, 0.3), edge * F32(0.8))
    s.cover(body, 0.1)


def _beard(
    s: _Scene, dx: np.ndarray, dy: np.ndarray, rx: float, ry: float, full: bool, wave: np.ndarray
) -> np.ndarray:
    """A beard (from the sideburns round the jaw to below the chin, with the moustache) or
    a moustache alone, as coverage over the face (dx, dy from the head's centre)."""
    lip = np.sqrt(np.square(dx / F32(rx * 0.48)) + np.square((dy - F32(ry * 0.36)) / F32(ry * 0.1)))
    tache = s.aa((1 - lip) * F32(ry * 0.1) + wave * F32(0.3))
    if not full:
        return tache
    # The jaw below the mouth, rising at the sides to the sideburns, and a rounded point
    # below the chin; ragged at its edge.
    jaw = np.sqrt(np.square(dx / F32(rx * 1.0)) + np.square((dy - F32(ry * 0.5)) / F32(ry * 0.9)))
    chin = s.aa((1 - jaw) * F32(ry * 0.5) + wave)
    line = F32(ry * 0.42) - np.square(dx / F32(rx)) * F32(ry * 0.75)
    below = _smooth(-0.008, 0.012, dy - line + wave * F32(0.5))
    return np.maximum(chin * below, tache)


def _bokeh(s: _Scene) -> None:
    p = s.p
    rng = s.rng("bokeh")
    base = s.fbm("backdrop", 1.2, 3)
    s.gradient_field(_darken(p.sky_top, 0.3), _mix(p.sky_mid, p.horizon, 0.4), base)
    np.subtract(s.fld, s.img, out=s.tmp)
    s.img += s.tmp
    mask = s.mask_u8()
    for _ in range(int(rng.integers(14, 26))):
        x, y = float(rng.random()), float(rng.random())
        r = float(rng.uniform(0.02, 0.07)) * s.h
        level = int(rng.integers(50, 150))
        cv2.circle(
            mask, (round(x * s.w * 4), round(y * s.h * 4)), round(r * 4), level, -1, cv2.LINE_AA, 2
        )
    mask = mask.astype(F32) * F32(1 / 255)
    mask = _blur(mask, 1.5)
    s.add(_mix(p.light, p.accent, 0.5), mask)


def _abstract(s: _Scene) -> None:
    p = s.p
    q = s.fbm("warp-x", 1.3, 4)
    r = s.fbm("warp-y", 1.3, 4)
    base = s.fbm("field", 1.8, 6)
    amt = 0.4 * min(s.h, s.w)
    mapx = (s.X * F32(s.w) - 0.5 + (q - 0.5) * F32(amt * 2)).astype(F32)
    mapy = (s.Y * F32(s.h) - 0.5 + (r - 0.5) * F32(amt * 2)).astype(F32)
    f = cv2.remap(base, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    mean, std = float(f.mean()), float(f.std()) + 1e-6
    v = np.clip((f - mean) * F32(0.23 / std) + 0.5 + (q - 0.5) * 0.3, 0, 1)
    # Strata: gentle contour bands make the field read as marbled paint, not noise.
    v = np.clip(v + np.sin(v * F32(38.0)) * F32(0.012), 0, 1)
    lut = _stops_lut(p.stops)
    idx = (v * 255).astype(np.intp)
    s.img[:] = lut[:, idx]
    gx = cv2.Sobel(v, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(v, cv2.CV_32F, 0, 1, ksize=3)
    shade = np.clip((gx * 0.6 - gy * 0.8) * F32(min(s.h, s.w) / 60.0), -0.5, 0.5)
    s.img *= (1.0 + shade * F32(0.35))[None]
    rng = s.rng("orbs")
    for _ in range(int(rng.integers(1, 4))):
        x, y, rad = (
            float(rng.uniform(0.15, 0.85)),
            float(rng.uniform(0.15, 0.85)),
            float(rng.uniform(0.08, 0.2)),
        )
        d = s.dist(x, y)
        s.add(_mix(p.light, p.accent2, 0.4), np.exp(-d / F32(rad)) * F32(0.25))
        ring = np.exp(-np.square((d - F32(rad)) * F32(s.h / 3.0))) * F32(0.35)
        s.add(p.light, ring)
    s.depth[:] = 0.5
    s.open_sky[:] = 0


def _stops_lut(stops: tuple[Colour, ...]) -> np.ndarray:
    """(3, 256) gradient lookup through the palette stops."""
    xs = np.linspace(0, 1, len(stops))
    t = np.linspace(0, 1, 256)
    arr = np.stack(stops)
    return np.stack([np.interp(t, xs, arr[:, c]) for c in range(3)]).astype(F32)


def _meadow(s: _Scene) -> None:
    p = s.p
    rng = s.rng("flowers")
    cols = [p.accent, p.accent2, _hue_shift(p.accent, 0.5), _c((1, 1, 1))]
    masks = [s.mask_u8() for _ in cols]
    n = int(900 * s.ar)
    # Subjects standing in the meadow get room: no flowers behind them (in their boxes).
    boxes = subject_boxes(s) if s.drawings else []
    for _ in range(n):
        y = s.hz + (1 - s.hz) * float(rng.random()) ** 0.7
        persp = (y - s.hz) / max(1 - s.hz, 0.1)
        x = float(rng.random())
        r = max(1.0, persp * 0.012 * s.h * float(rng.uniform(0.5, 1.3)))
        k = int(rng.integers(len(cols)))
        if boxes and any(_near(x, y, b) for b in boxes):
            continue
        cv2.circle(
            masks[k],
            (round(x * s.w * 4), round(y * s.h * 4)),
            round(r * 4),
            255,
            -1,
            cv2.LINE_AA,
            2,
        )
    for col, m in zip(cols, masks, strict=True):
        s.paint(col, m.astype(F32) * F32(1 / 255))


def _near(x: float, y: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _synthwave(s: _Scene) -> None:
    p = s.p
    hz = s.hz = 0.6
    top, mid, hor = _c("#12002a"), _c("#5b0f6b"), _c("#ff4f9a")
    if s.traits.colours:
        top, mid = _mix(top, p.sky_top, 0.5), _mix(mid, p.sky_mid, 0.5)
    t = np.clip(s.Y / hz, 0, 1)
    rows = _col3(top) + _col3(mid - top) * _smooth(0, 0.6, t)[None]
    rows = rows + (_col3(hor) - rows) * _smooth(0.5, 1.0, t)[None]
    s.img[:] = rows
    _stars(s, 0.6)
    cx, cy, r = 0.5, hz - 0.16, 0.2
    s.sun = (cx, cy, r)
    d = s.dist(cx, cy)
    s.add(_c("#ff7ab0"), np.exp(-d / F32(r * 1.5)) * F32(0.35))
    disc = s.aa(F32(r) - d)
    below_centre = s.Y - F32(cy)
    cut = np.sin(below_centre * F32(180) * (1 + below_centre * 6)) > -0.2
    stripes = np.where(below_centre > 0, cut, 1.0)  # the classic sliced retro sun
    s.gradient_field(_c("#ffe66b"), _c("#ff3d8b"), np.clip((s.Y - (cy - r)) / (2 * r), 0, 1))
    s.paint(s.fld, disc * stripes)
    rng = s.rng("synth-mountains")
    prof = _fbm1d(rng, s.w, 4, 4)
    mtop = F32(hz) - F32(0.12) * prof * (0.4 + np.abs(s.X - 0.5) * 2)
    m = s.under(mtop)
    s.paint(_c("#1a0630"), m)
    s.add(
        _c("#ff3df0"),
        np.exp(-np.abs(s.Y - mtop) * F32(s.h * 0.4)) * F32(0.8) * (s.Y - mtop > -0.01),
    )
    # Perspective grid floor.
    below = np.maximum(s.Y - F32(hz), F32(1e-3))
    floor = s.aa(s.Y - F32(hz)) * np.ones((1, s.w), F32)
    s.paint(_c("#0c0220"), floor)
    kx, ky = 3.0, 0.5
    zx = (s.X - 0.5) * F32(s.ar * kx) / below
    zy = F32(ky) / below
    # Grid units per pixel (an analytic fwidth); the side lines also slant, so their
    # spacing shrinks vertically too.
    fx = np.hypot(F32(kx) / (below * s.h), np.abs(zx) / (below * s.h))
    fy = F32(ky) / (below * below * s.h)
    gx = np.abs(zx - np.round(zx)) / fx
    gy = np.abs(zy - np.round(zy)) / fy
    # Lines closer than ~3 pixels apart fade out instead of aliasing into moire.
    vert = np.clip(1.0 - gx * 0.6, 0, 1) * np.clip((0.25 - fx) * 8, 0, 1)
    hor = np.clip(1.0 - gy * 0.6, 0, 1) * np.clip((0.25 - fy) * 8, 0, 1)
    lines = np.maximum(vert, hor) * floor * _smooth(0.0, 0.05, below)
    lines = np.maximum(lines, _blur(lines, 2.0) * F32(0.6))
    s.add(_c("#36f2ff"), lines * F32(0.9))
    s.add(_c("#ff3df0"), np.exp(-np.abs(s.Y - hz) * F32(40)) * F32(0.5))
    s.open_sky = (s.Y - mtop < 0) * (1 - disc)
    s.depth[:] = 0.5


def _pattern(s: _Scene) -> None:
    """Wallpaper: periodic motif lattice over a soft field (made tileable when finishing)."""
    p = s.p
    _abstract(s)
    s.img *= 0.35
    s.img += 0.45 * _col3(_mix(p.stops[2], p.stops[4], 0.5))
    rng = s.rng("motifs")
    # Multiples of 4, so a half-period shift maps the lattice (and its colouring) onto itself.
    n = int(rng.choice([4, 8, 8, 12]))
    ny = max(4, round(n / s.ar / 4) * 4)
    row = np.floor(s.Y * ny)
    stagger = (row % 2) * F32(0.5)
    gx = s.X * F32(n) + stagger
    col_i = np.floor(gx)
    cu = gx - col_i - F32(0.5)
    cv = s.Y * F32(ny) - row - F32(0.5)
    dx = cu * F32(s.ar / n)
    dy = cv * F32(1.0 / ny)
    d = np.sqrt(dx * dx + dy * dy)
    parity = (col_i + row) % 2
    cell = min(s.ar / n, 1.0 / ny)
    kinds = rng.integers(0, 3, 2)
    for sub, col in ((0, p.stops[1]), (1, p.stops[4])):
        rad = F32(cell * (0.36 if sub else 0.22))
        if kinds[sub] == 0:
            sd = rad - d
        elif kinds[sub] == 1:
            theta = np.arctan2(dy, dx)
            petals = rad * (F32(0.62) + F32(0.38) * np.abs(np.cos(theta * F32(2.5))))
            sd = np.maximum(petals - d, rad * F32(0.2) - d)
        else:
            sd = rad - (np.abs(dx) + np.abs(dy))
        s.paint(col, s.aa(sd) * (parity == sub))
    s.finish.seamless = True
