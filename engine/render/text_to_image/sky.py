"""Scene layers of the sky: gradient, sun or moon, stars, nebula, clouds."""

from __future__ import annotations

import math

import numpy as np

from engine.render.text_to_image.noise import F32, _smooth
from engine.render.text_to_image.palettes import _c, _col3, _darken, _lighten, _mix
from engine.render.text_to_image.scene import _Scene


def _sky(s: _Scene) -> None:
    p, hz = s.p, s.hz
    t = np.clip(s.Y / max(hz, 0.15), 0.0, 1.0)
    upper = _smooth(0.0, 0.6, t)
    lower = _smooth(0.45, 1.0, t)
    # Three-stop vertical gradient, evaluated per row and broadcast over the width.
    rows = _col3(p.sky_top) + _col3(p.sky_mid - p.sky_top) * upper[None]
    rows = rows + (_col3(p.horizon) - rows) * lower[None]
    s.img[:] = rows
    wash = s.fbm("sky-wash", 1.4, 3)
    wash -= 0.5
    wash *= 0.09
    s.img += wash[None]
    # Warm band just above the horizon (scattered light).
    band = np.exp(-np.abs(s.Y - hz) * F32(9.0)) * F32(0.22)
    s.add(p.horizon * 0.6 + p.light * 0.4 - 0.35, band * np.ones((1, s.w), F32))


def _sun(s: _Scene, moon: bool = False) -> None:
    p = s.p
    rng = s.rng("moon" if moon else "sun")
    scene = s.scene
    cx = float(rng.uniform(0.25, 0.75))
    low = scene in ("sunset", "dawn", "fire") or "sunset" in s.traits.words
    if moon:
        cy = float(rng.uniform(0.14, 0.32)) * s.hz / 0.62
        r = float(rng.uniform(0.05, 0.075))
    elif low:
        lift = 0.14 if s.subjects & {"mountain", "city", "forest", "desert"} else 0.0
        cy = s.hz - float(rng.uniform(0.05, 0.13)) - lift
        r = float(rng.uniform(0.06, 0.1))
    else:
        cy = float(rng.uniform(0.12, 0.3)) * s.hz / 0.62
        r = float(rng.uniform(0.045, 0.07))
    s.sun = (cx, cy, r)
    d = s.dist(cx, cy)
    glow_col = _mix(p.light, p.accent2 if moon else p.horizon, 0.35)
    glow = np.exp(d * F32(-1.0 / (r * 1.6))) * F32(0.55) + np.exp(d * F32(-1.0 / (r * 7))) * F32(
        0.28 if not moon else 0.16
    )
    veil = 1.0 if s.clouds is None else 1.0 - s.clouds * F32(0.6)
    glow *= s.open_sky * veil
    s.add(glow_col, glow)
    disc = s.aa(F32(r) - d) * veil
    if moon:
        craters = s.fbm("moon-craters", 9, 4)
        body = _mix(p.light, _c((0.82, 0.84, 0.9)), 0.5)
        shade = 0.78 + (craters - 0.5) * 0.6
        field_ = s.gradient_field(body * 0.55, body, np.clip(shade, 0, 1.2))
        # Crescent or gibbous: an offset disc shades part of the moon.
        off = float(rng.uniform(0.7, 1.5)) * r * (1 if rng.random() < 0.5 else -1)
        shadow = s.aa(F32(r * 1.02) - s.dist(cx + off / s.ar, cy - r * 0.15))
        earthshine = _mix(p.sky_mid, body, 0.25)
        np.subtract(_col3(earthshine), field_, out=s.tmp)
        s.tmp *= shadow * F32(0.85)
        field_ += s.tmp
        s.paint(field_, disc)
    else:
        sun_col = _lighten(_mix(p.light, p.horizon, 0.25 if low else 0.05), 0.25)
        rim = np.clip(d / F32(r), 0, 1) ** 4
        s.gradient_field(sun_col, _mix(sun_col, p.accent2, 0.5), rim)
        s.paint(s.fld, disc)
    s.open_sky *= 1.0 - disc


def _stars(s: _Scene, density: float = 1.0) -> None:
    rng = s.rng("stars")
    n = int(380 * density * s.ar)
    xs = rng.random(n)
    ys = rng.random(n) ** 1.3 * (s.hz + 0.05 if s.kind != "space" else 1.0)
    mag = rng.random(n) ** 5
    tint = rng.random(n)
    s.stars = (xs, ys, mag, tint)


def _nebula(s: _Scene) -> None:
    p = s.p
    band_angle = float(s.rng("nebula-angle").uniform(-0.6, 0.6))
    u = (s.X - 0.5) * F32(s.ar) * F32(math.sin(band_angle)) + (s.Y - 0.5) * F32(
        math.cos(band_angle)
    )
    band = np.exp(-(u * u) * F32(14.0))
    gas = s.fbm("nebula", 2.2, 6)
    dust = s.fbm("nebula-dust", 4.0, 5)
    dens = _smooth(0.35, 0.85, gas) * band
    s.add(p.accent, dens * 0.55)
    s.add(p.accent2, _smooth(0.5, 0.9, dust) * band * 0.35)
    s.img *= (1.0 - _smooth(0.55, 0.8, dust) * band * 0.5)[None]


def _clouds(s: _Scene, amount: float, cumulus: bool = False) -> None:
    p, hz = s.p, s.hz
    if cumulus:
        n = s.fbm("clouds", 1.6, 6, stretch=1.4, gain=0.55)
        lo, soft = 0.56 - amount * 0.12, 0.08
    else:
        n = s.fbm("clouds", 2.2, 6, stretch=2.8)
        lo, soft = 0.6 - amount * 0.16, 0.22
    # Normalise, so "clouds" in the prompt means clouds whatever the coarse octaves drew.
    n -= F32(n.mean())
    n *= F32(0.2 / (float(n.std()) + 1e-6))
    n += F32(0.5)
    env = _smooth(0.0, 0.2, s.Y) * (1.0 - _smooth(hz - 0.2, hz, s.Y))
    if not cumulus:
        env = env * (0.55 + 0.45 * _smooth(0.1, 0.5, s.Y))
    dens = _smooth(lo, lo + soft, n) * env
    # Self-shadowing: compare with the density a little toward the light (above).
    k = max(1, round(s.h * 0.02))
    shifted = np.empty_like(n)
    shifted[k:] = n[:-k]
    shifted[:k] = n[:1]
    shade = np.clip((n - shifted) * F32(-7.0) + 0.55, 0.0, 1.0)
    if cumulus:  # storybook clouds: bright tops, lavender-blue undersides
        lit = _lighten(p.light, 0.55)
        dark = _mix(_lighten(p.sky_mid, 0.35), p.horizon, 0.3)
    elif s.scene == "night":
        lit, dark = _mix(p.sky_mid, p.light, 0.25), _darken(p.sky_top, 0.2)
    else:
        lit = _mix(p.light, p.sky_mid, 0.15 if cumulus else 0.3)
        dark = _mix(_mix(p.sky_top, p.horizon, 0.5), p.accent, 0.15) * (0.9 if cumulus else 0.8)
    if s.sun is not None:
        cx, cy, _r = s.sun
        shade = np.clip(shade + np.exp(-s.dist(cx, cy) * F32(4.0)) * F32(0.45), 0, 1)
    s.gradient_field(dark, lit, shade)
    s.paint(s.fld, dens * F32(0.92))
    s.open_sky *= 1.0 - dens
    s.clouds = dens
