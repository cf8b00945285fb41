"""Scene layers of the land: mountain ridges, ground, water with reflections, tree lines,
trunks, a city skyline.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from engine.render.text_to_image.noise import F32, _fbm, _fbm1d, _smooth
from engine.render.text_to_image.palettes import Colour, _c, _col3, _darken, _lighten, _mix
from engine.render.text_to_image.scene import _Scene


def _ridge_profile(s: _Scene, rng: np.random.Generator, smooth: bool) -> np.ndarray:
    cells = float(rng.uniform(2.0, 3.5))
    if smooth:
        return _fbm1d(rng, s.w, cells * 0.8, 3, 0.4)
    base = _fbm1d(rng, s.w, cells, 6 + s.look.detail, 0.5)
    ridged = 1.0 - np.abs(_fbm1d(rng, s.w, cells * 1.3, 5 + s.look.detail, 0.45) * 2 - 1)
    r = base * 0.6 + ridged * 0.4
    return (r - r.min()) / max(float(r.max() - r.min()), 1e-6)


def _mountains(s: _Scene, layers: int, foreground: bool, snowy: bool, desert: bool) -> None:
    p, hz = s.p, s.hz
    rng = s.rng("desert" if desert else "mountains")
    sun_x = s.sun[0] if s.sun else float(rng.uniform(0.2, 0.8))
    rock = s.fbm("rock", 6.0, 5, stretch=1.6)
    far = _mix(p.haze, p.land_far, 0.45)
    near = p.land_near
    if desert:
        far, near = _mix(p.haze, p.accent, 0.35), _mix(p.land_far, p.accent, 0.35)
    for i in range(layers):
        t = i / max(layers - 1, 1)
        prof = _ridge_profile(s, rng, smooth=desert)
        if foreground:
            base = hz + 0.03 + t * 0.22
            height = (0.24 - 0.14 * t) * float(rng.uniform(0.8, 1.15))
        else:
            base = hz + 0.005
            height = (0.24 - 0.15 * t) * float(rng.uniform(0.75, 1.15)) * (0.6 if desert else 1.0)
        top = F32(base) - F32(height) * prof ** F32(1.3 if not desert else 1.0)
        mask = s.under(top)
        below = np.maximum(s.Y - top, 0)
        # Face shading from the crest's slope, smoothed so it reads as facets, not streaks.
        slope = np.gradient(top[0]).astype(F32)[None, :] * F32(s.w / 6.0)
        slope = cv2.GaussianBlur(slope, (0, 0), sigmaX=max(1.0, s.w * 0.006), sigmaY=0.1)
        facing = np.tanh((F32(sun_x) - s.X) * F32(6.0))  # smooth: no seam below the sun
        shade = np.clip(-slope * facing, -1, 1)
        fall = np.exp(below * F32(-18.0 if not desert else -5.0))
        light = 1.0 + shade * fall * F32(0.35 if not desert else 0.5)
        light += (rock - 0.5) * F32(0.18 * (1 - 0.6 * t) if not desert else 0.06)
        col = _mix(far, near, t**0.8)
        np.multiply(_col3(col), light, out=s.fld)
        if desert:
            ripple = np.sin((s.Y * F32(160) + rock * F32(9.0)) * F32(1.0 + t)) * F32(0.04)
            s.fld *= (1.0 + ripple)[None]
        if snowy and not desert:
            # Snow above a snowline (streaked by the rock noise); low foreground hills are
            # simply snow-covered in a winter scene.
            snowline = F32(base - height * 0.45)
            snow = _smooth(0.0, 0.03, snowline - s.Y + (rock - 0.5) * F32(0.16) + below * F32(0.3))
            if foreground and t > 0.5:
                snow = np.maximum(snow, F32(0.9))
            snow_col = _mix(_c((0.95, 0.97, 1.0)), p.light, 0.2)
            np.subtract(_col3(snow_col) * light, s.fld, out=s.tmp)
            s.tmp *= snow * 0.9
            s.fld += s.tmp
        # Valley mist: each ridge fades toward the haze below its crest.
        mist = _smooth(0.0, 0.16 + 0.1 * t, below) * F32(0.55 * (1 - t) + 0.1)
        np.subtract(_col3(p.haze), s.fld, out=s.tmp)
        s.tmp *= mist
        s.fld += s.tmp
        s.paint(s.fld, mask)
        s.cover(mask, 0.9 - 0.5 * t if not foreground else 0.8 - 0.7 * t)


def _ground(s: _Scene, kind: str) -> None:
    p, hz = s.p, s.hz
    below = s.Y - F32(hz)
    mask = s.aa(below) * np.ones((1, s.w), F32)
    persp = np.clip(below / F32(max(1 - hz, 0.1)), 0, 1)
    tex = s.fbm("ground", 4.0, 5, stretch=6.0)
    if kind == "snow":
        c0, c1 = _mix(p.haze, _c((0.92, 0.95, 1.0)), 0.6), _c((0.86, 0.9, 0.97))
    elif kind == "desert":
        c0, c1 = _mix(p.haze, p.accent, 0.4), _mix(p.land_far, p.accent, 0.5)
    elif kind == "city":
        c0, c1 = _mix(p.haze, p.land_near, 0.6), _darken(p.land_near, 0.3)
    else:
        c0 = _mix(p.haze, p.land_far, 0.6)
        c1 = _mix(p.land_near, _c((0.2, 0.35, 0.15)), 0.35 if s.scene != "night" else 0.0)
    s.gradient_field(c0, c1, persp ** F32(0.6))
    s.fld *= (1.0 + (tex - 0.5) * F32(0.35))[None]
    s.paint(s.fld, mask)
    s.cover(mask, 0.5)
    s.depth += (persp * F32(-0.5)) * mask


def _water(s: _Scene) -> None:
    """Water below the horizon: a rippled mirror of everything above it, horizontal swell
    bands, a depth gradient, and a glitter path under the sun."""
    p, hz, h, w = s.p, s.hz, s.h, s.w
    y0 = min(h - 1, math.floor(hz * h))
    hb = h - y0
    rows = np.arange(y0, h, dtype=F32)[:, None] + 0.5
    dist = np.maximum(rows - F32(hz * h), 0.0)  # pixels below the horizon
    ripple = _fbm(s.rng("ripple"), hb, w, 6.0 * h / max(hb, 1), 4, 0.5, 10.0)
    wobble = (ripple - 0.5) * (dist ** F32(0.85)) * F32(0.6)
    mapy = np.clip(F32(hz * h - 1.0) - dist - wobble, 0, max(y0 - 1, 0)).astype(F32)
    mapx = np.ascontiguousarray(np.broadcast_to(np.arange(w, dtype=F32)[None, :], (hb, w)))
    depth_t = np.clip(dist / F32(max(hb, 1)), 0, 1)
    deep_t = depth_t ** F32(0.7)
    fres = F32(0.75) - depth_t * F32(0.4)  # more mirror near the horizon
    # Horizontal bands: long, thin swells that widen toward the viewer.
    swell = _fbm(s.rng("swell"), hb, w, 14.0, 3, 0.5, 16.0)
    bands = np.sin(np.sqrt(dist + 1.0) * F32(7.0) + swell * F32(10.0))
    shade = 1.0 + bands * F32(0.07)
    glitter = None
    if s.sun is not None:
        cx, _cy, r = s.sun
        spread = F32(r * 0.8) + dist / F32(h) * F32(0.35)
        column = np.exp(-np.square((s.X - cx) * F32(s.ar) / spread))
        glitter = np.clip((bands + (ripple - 0.5) * 3.0) - 0.6, 0, 1) * column * F32(0.9)
    edge = np.clip(rows - F32(hz * h), 0, 1)  # anti-aliased horizon line
    near = _mix(p.horizon, p.water, 0.4)
    for c in range(3):  # per plane: remap is fast on 2-D float32 and needs no big temporaries
        refl = cv2.remap(s.img[c], mapx, mapy, cv2.INTER_LINEAR)
        tint = F32(near[c]) + F32(p.water[c] - near[c]) * deep_t
        refl -= tint
        refl *= fres
        refl += tint
        refl *= shade
        if glitter is not None:
            refl += F32(p.light[c]) * glitter
        top = s.img[c, y0:]
        refl -= top
        refl *= edge
        top += refl
    s.open_sky[y0:] = 0
    s.depth[y0:] = 0.3 + 0.6 * (1 - depth_t)


def _treeline(s: _Scene, base: float, height: float, col: Colour, count: int, seed: str) -> None:
    rng = s.rng(seed)
    top = np.full((1, s.w), base, F32) + (_fbm1d(rng, s.w, 3, 2) - 0.5) * F32(height * 0.3)
    xs = np.sort(rng.uniform(-0.05, 1.05, count))
    for x in xs:
        hh = height * float(rng.uniform(0.55, 1.2))
        half = hh * float(rng.uniform(0.18, 0.3)) / s.ar
        d = np.abs(s.X - F32(x))
        # Conifer: a triangle with a saw-tooth edge for the branch tiers.
        tiers = np.abs(((d * F32(s.ar) / F32(hh)) * 6.0) % 1.0 - 0.5) * F32(hh * 0.05)
        tree = F32(base - hh) + d * F32(hh / half) - tiers
        np.minimum(top, tree, out=top)
    mask = s.under(top)
    # Sunlit tips, darker depths, and a little ground mist at the foot of the row.
    below = np.maximum(s.Y - top, 0)
    tone = (
        F32(0.8)
        + F32(0.45) * np.exp(below * F32(-40.0))
        + (s.fbm(seed + "-tex", 20.0, 2) - 0.5) * F32(0.25)
    )
    np.multiply(_col3(col), tone, out=s.fld)
    mist = _smooth(base - 0.05, base + 0.03, s.Y) * F32(0.3)
    np.subtract(_col3(s.p.haze), s.fld, out=s.tmp)
    s.tmp *= mist
    s.fld += s.tmp
    s.paint(s.fld, mask)
    s.cover(mask, 0.6)


def _trunks(s: _Scene) -> None:
    """Forest interior: vertical trunks in depth layers, a leafy canopy, god rays."""
    p = s.p
    rng = s.rng("trunks")
    ang = float(rng.uniform(0.25, 0.55)) * (1 if rng.random() < 0.5 else -1)
    u = s.X * F32(s.ar * math.cos(ang)) + s.Y * F32(math.sin(ang))
    beams = np.sin(u * F32(26.0) + s.fbm("rays", 1.5, 2) * F32(2.0))
    rays = _smooth(0.4, 1.0, beams) * (1 - _smooth(0.2, 1.0, s.Y)) * F32(0.3)
    bark_tex = s.fbm("bark", 40.0, 3, stretch=0.08)
    ground = _smooth(0.86, 1.0, s.Y)  # trunks flare a little where they meet the ground
    for layer in range(3):
        t = layer / 2
        col = _mix(
            _mix(p.haze, p.land_far, 0.5),
            _darken(_mix(p.land_near, _c((0.25, 0.18, 0.12)), 0.4), 0.3),
            t,
        )
        if layer:
            s.add(p.light, rays * F32(0.5))  # light shafts between the depth layers
        for _ in range(int(rng.integers(5, 9)) - layer * 2):
            x = float(rng.uniform(-0.05, 1.05))
            half = float(rng.uniform(0.006, 0.014)) * (1 + 2.2 * t) / s.ar
            c0 = max(0, int((x - half * 2.2) * s.w))
            c1 = min(s.w, int((x + half * 2.2) * s.w) + 2)
            if c1 <= c0:
                continue
            xs = s.X[:, c0:c1]
            d = (xs - F32(x)) / F32(half)  # -1..1 across the trunk
            width = F32(1.0) + np.square(ground) * F32(0.9)  # (h, 1)
            m = np.clip((width - np.abs(d)) * F32(half * s.w) + 0.5, 0, 1)
            round_ = np.sqrt(np.clip(1 - np.square(d / width), 0, 1))
            light = F32(0.45) + F32(0.55) * round_ * np.clip(1 + d * 0.7, 0, 1.4)
            light = light * (1 + (bark_tex[:, c0:c1] - 0.5) * F32(0.5 * (0.3 + t)))
            region = s.img[:, :, c0:c1]
            region += (_col3(col) * light[None] - region) * m[None]
            s.open_sky[:, c0:c1] *= 1 - m
            s.depth[:, c0:c1] += (F32(0.8 - 0.6 * t) - s.depth[:, c0:c1]) * m
    # Canopy: clumps of foliage hanging from the top edge, speckled with leaf-sized noise.
    clumps = s.fbm("canopy", 4.0, 5)
    leaves = s.fbm("leaves", 36.0, 2)
    reach = clumps * F32(0.5) + leaves * F32(0.12) + (F32(0.24) - s.Y) * F32(2.2)
    canopy = _smooth(0.5, 0.53, reach)
    dark, lit = _foliage(s)
    s.gradient_field(dark, lit, np.clip((clumps - 0.5) * 2.5 + (leaves - 0.5) * 1.6 + 0.5, 0, 1))
    s.paint(s.fld, canopy)
    s.add(p.light, rays * F32(0.7))


def _foliage(s: _Scene) -> tuple[Colour, Colour]:
    """Dark and lit leaf colours for the season."""
    p = s.p
    if s.scene == "autumn":
        return _darken(p.accent2, 0.45), _mix(p.accent, _c((1.0, 0.75, 0.25)), 0.3)
    if s.scene == "winter":
        return _mix(p.land_near, _c((0.85, 0.9, 0.95)), 0.45), _c((0.95, 0.97, 1.0))
    green = _c((0.12, 0.3, 0.12))
    return _darken(_mix(p.land_near, green, 0.5), 0.3), _mix(p.land_far, _c((0.55, 0.7, 0.25)), 0.5)


def _city(s: _Scene, layers: int = 3) -> None:
    p, hz, h, w = s.p, s.hz, s.h, s.w
    rng = s.rng("city")
    night = s.scene in ("night", "neon", "space") or "dark" in s.traits.moods
    ys = np.arange(h)[:, None]
    xs = np.arange(w)[None, :]
    for i in range(layers):
        t = i / max(layers - 1, 1)
        mask = s.mask_u8()
        x = float(rng.uniform(-0.03, 0.0))
        while x < 1.02:
            bw = float(rng.uniform(0.025, 0.07)) * (0.7 + 0.6 * t)
            bh = float(rng.lognormal(-1.9, 0.45)) * (1.2 - 0.5 * t)
            x0, x1 = round(x * w), round((x + bw) * w)
            y1 = round((hz + 0.004) * h)
            y0 = round((hz - bh) * h)
            cv2.rectangle(mask, (x0, y0), (x1 - 1, y1), 255, -1)
            if rng.random() < 0.3:  # stepped top
                inset = round(bw * w * 0.25)
                cv2.rectangle(
                    mask, (x0 + inset, y0 - round(bh * h * 0.12)), (x1 - inset, y0), 255, -1
                )
            if rng.random() < 0.15:  # antenna
                xm = (x0 + x1) // 2
                cv2.line(mask, (xm, y0), (xm, y0 - round(bh * h * 0.3)), 255, 1)
            x += bw * float(rng.uniform(0.85, 1.1))
        m = mask.astype(F32) * F32(1 / 255)
        col = _mix(_mix(p.haze, p.land_far, 0.5), _darken(p.land_near, 0.2), t)
        px, py = max(3, round(w * 0.007 * (1 + 0.5 * t))), max(3, round(h * 0.011 * (1 + 0.5 * t)))
        lit_table = rng.random((h // py + 2, w // px + 2)) < (0.45 if night else 0.15)
        win = ((xs % px) < px * 0.55) & ((ys % py) < py * 0.5) & lit_table[ys // py, xs // px]
        glow = win.astype(F32) * m
        s.paint(col, m)
        win_col = _mix(p.light, _c((1.0, 0.8, 0.45)), 0.6) if night else _lighten(col, 0.35)
        s.paint(win_col, glow * F32(0.9 if night else 0.5))
        s.cover(m, 0.85 - 0.5 * t)
    if night:  # city glow on the horizon
        s.add(
            _mix(p.accent, p.light, 0.5),
            np.exp(-np.abs(s.Y - hz) * F32(14)) * F32(0.12) * s.open_sky,
        )
