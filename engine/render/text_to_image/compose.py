"""Composition (which layers a prompt gets, in which order) and grading (surface texture,
mood, guidance, the scheduler's smoothing, negative colour words).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from engine.render.drawings import word_set
from engine.render.text_to_image.drawn import draw_subjects, still_life, underwater, weather
from engine.render.text_to_image.land import _city, _ground, _mountains, _treeline, _trunks, _water
from engine.render.text_to_image.noise import F32, _blur3, _fbm, _luma, _rng, _smooth
from engine.render.text_to_image.palettes import _c, _darken, _hsv, _lighten, _mix
from engine.render.text_to_image.scene import _Scene
from engine.render.text_to_image.sky import _clouds, _nebula, _sky, _stars, _sun
from engine.render.text_to_image.subjects import (
    _abstract,
    _bokeh,
    _figure,
    _meadow,
    _pattern,
    _synthwave,
)

_LAND = frozenset({"mountain", "water", "forest", "city", "desert", "flowers", "snow"})
# People words that make a portrait even when the prompt names other subjects too.
_PEOPLE = word_set(
    "woman man girl boy lady child king queen princess warrior knight samurai witch "
    "wizard person people"
)
_SNOW = frozenset({"snow", "snowy", "snowing", "snowfall", "blizzard", "snowflakes"})
_RAIN = frozenset({"rain", "rainy", "raining", "rainfall", "drizzle", "downpour", "rainstorm"})


def _compose(s: _Scene, style: str | None) -> None:
    _compose_scene(s, style)
    _weather(s)


def _compose_scene(s: _Scene, style: str | None) -> None:
    subj = s.subjects
    if style == "digital_illustration/80s":
        s.kind = "synthwave"
        _synthwave(s)
        return
    if style == "digital_illustration/seamless":
        s.kind = "pattern"
        _pattern(s)
        return
    studio = style == "realistic_image/studio_portrait"
    main = s.drawings[0].drawing.kind if s.drawings else None
    person = not s.drawings or bool(_PEOPLE & set(s.traits.words))
    sea_only = not (subj & (_LAND - {"water"})) and "underwater" not in s.traits.words
    if studio or ("figure" in subj and not (subj & _LAND) and person):
        s.kind = "portrait"
        _portrait(s, studio)
        return
    if main == "underwater" and (sea_only or "underwater" in s.traits.words):
        s.kind = "underwater"
        underwater(s)
        draw_subjects(s)
    elif main == "object" and not (subj & _LAND):
        s.kind = "still life"
        still_life(s)
        draw_subjects(s)
    elif subj & _LAND or subj & {"sun", "moon", "clouds"} or main is not None:
        _landscape(s)
    elif "stars" in subj:
        if s.scene == "space" or "space" in s.traits.scenes:
            s.kind = "space"
            _space(s)
        else:
            _landscape(s)
    else:
        s.kind = "abstract"
        _abstract(s)


def _landscape(s: _Scene) -> None:
    subj = s.subjects
    rng = s.rng("plan")
    water, mount = "water" in subj, "mountain" in subj
    forest, city, desert = "forest" in subj, "city" in subj, "desert" in subj
    flowers, snow = "flowers" in subj, "snow" in subj
    sky_only = not (water or mount or forest or city or desert or flowers or snow)
    kinds = {d.drawing.kind for d in s.drawings}
    main = s.drawings[0].drawing.kind if s.drawings else None
    if sky_only and main in ("water", "underwater"):
        water, sky_only = True, False
    hz_set = False
    if sky_only and main is not None and main not in ("sky", "water", "underwater"):
        sky_only = False  # subjects on the ground: a meadow and far hills
        mount = hz_set = True
        s.hz = float(rng.uniform(0.55, 0.64))
    if sky_only:  # sun, moon, clouds or stars alone: the seed picks a sea or hills below
        water = bool(rng.random() < 0.45) or "mountain" in s.traits.negative_subjects
        mount = not water
    if snow and not (mount or water or city or forest):
        mount = True
    if city and not (water or mount or forest or desert) and rng.random() < 0.6:
        water = True  # a waterfront doubles the lights
    interior = forest and not (water or mount or city or desert) and rng.random() < 0.6
    if interior:
        s.hz = 0.8
    elif hz_set:
        pass
    elif sky_only:
        s.hz = float(rng.uniform(0.64, 0.76))
    elif water and not (mount or city):
        s.hz = float(rng.uniform(0.48, 0.6))
    else:
        s.hz = float(rng.uniform(0.55, 0.68))
    night = s.scene in ("night", "space") or "stars" in subj
    _sky(s)
    if "stars" in subj:
        _stars(s, 1.0)
        if s.scene == "space":
            _nebula(s)
    amount = float(rng.uniform(0.15, 0.55)) + (0.45 if "clouds" in subj else 0.0)
    amount += 0.3 if s.scene == "storm" else 0.0
    amount -= 0.3 if night else 0.0
    if "cumulus" in s.look.effects:
        amount += 0.25
    if amount > 0.05:
        _clouds(s, amount, cumulus="cumulus" in s.look.effects)
    if "moon" in subj:
        _sun(s, moon=True)
    if "sun" in subj:
        _sun(s)
    if interior:
        _ground(s, "forest")
        _treeline(s, s.hz + 0.01, 0.18, _mix(s.p.haze, s.p.land_far, 0.5), 70, "treeline-far")
        _trunks(s)
    else:
        foreground = (mount or desert) and not (water or forest or city or flowers)
        foreground = foreground and not kinds & {"ground", "building", "object"}
        if mount or desert:
            _mountains(
                s,
                4 if foreground else 3,
                foreground,
                snow or s.scene == "winter",
                desert and not mount,
            )
        if city:
            _city(s)
        if not water and not foreground:
            kind = "snow" if snow else "desert" if desert else "city" if city else "grass"
            _ground(s, kind)
        if forest:
            far_col = _mix(_mix(s.p.haze, s.p.land_far, 0.55), _c((0.1, 0.3, 0.15)), 0.2)
            _treeline(s, s.hz + 0.004, 0.08, far_col, 90, "treeline-far")
            if not water:
                near_col = _darken(_mix(s.p.land_near, _c((0.05, 0.2, 0.08)), 0.3), 0.2)
                _treeline(s, min(1.02, s.hz + 0.25), 0.3, near_col, 26, "treeline-near")
        if water:
            _water(s)
        if flowers and not water:
            _meadow(s)
        if water and kinds & {"ground", "building", "object"}:
            _shore(s)
    draw_subjects(s)
    if "figure" in subj:
        _figure(s, large=False)


def _shore(s: _Scene) -> None:
    """A near bank for subjects that stand by the water."""
    top = F32(0.8) + (s.fbm("shore", 3.0, 3)[0:1] - 0.5) * F32(0.05)
    bank = s.aa(s.Y - top) * np.ones((1, s.w), F32)
    col = _mix(s.p.land_near, _c((0.3, 0.35, 0.2)), 0.3)
    s.gradient_field(_lighten(col, 0.1), _darken(col, 0.4), _smooth(0.78, 1.0, s.Y))
    s.paint(s.fld, bank)
    s.cover(bank, 0.2)
    s.ground_top = 0.8


def _weather(s: _Scene) -> None:
    words = set(s.traits.words)
    if s.kind in ("landscape", "still life") and words & _SNOW:
        weather(s, "snow")
    elif s.kind in ("landscape", "still life", "portrait") and words & _RAIN:
        weather(s, "rain")


def _portrait(s: _Scene, studio: bool) -> None:
    s.hz = 0.7
    if studio:
        p = s.p
        back = _mix(_mix(p.haze, p.sky_mid, 0.35), _c((0.42, 0.42, 0.44)), 0.5)
        d = s.dist(0.5 + 0.12, 0.35)
        s.gradient_field(_lighten(back, 0.25), _darken(back, 0.55), np.clip(d * 1.1, 0, 1))
        s.img[:] = s.fld
    else:
        _bokeh(s)
    _figure(s, large=True)


def _space(s: _Scene) -> None:
    p = s.p
    s.hz = 1.0
    t = s.fbm("space-wash", 1.0, 2)
    s.gradient_field(p.sky_top, p.sky_mid, np.clip(t * 1.2 - 0.1, 0, 1))
    s.img[:] = s.fld
    _nebula(s)
    _stars(s, 1.6)
    rng = s.rng("planet")
    if "moon" in s.subjects or rng.random() < 0.6:
        cx, cy = float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.25, 0.75))
        r = float(rng.uniform(0.08, 0.22))
        d = s.dist(cx, cy)
        disc = s.aa(F32(r) - d)
        bands = s.fbm("planet-bands", 3.0, 4, stretch=8.0)
        lx = (s.X - F32(cx)) * F32(s.ar) / F32(r)
        ly = (s.Y - F32(cy)) / F32(r)
        lit = np.clip(0.15 + 0.85 * (-(lx * 0.6 + ly * 0.5) + 0.45), 0, 1)
        s.gradient_field(_darken(p.accent, 0.6), _lighten(p.accent2, 0.2), bands)
        s.fld *= lit[None]
        s.add(p.accent, np.exp(-np.abs(d - F32(r)) * F32(60)) * F32(0.35))
        s.paint(s.fld, disc)
        s.open_sky *= 1 - disc


# --------------------------------------------------------------------------- grading


def _detail(s: _Scene) -> None:
    """Fine surface texture; its character is where the scheduler shows."""
    amp = s.look.texture + s.sched.detail
    if amp <= 0:
        return
    rng = _rng(s.key, "detail", s.sched.phase)
    tex = _fbm(rng, s.h, s.w, 48.0, 2 + max(0, s.sched.octaves), s.sched.gain)
    tex -= 0.5
    tex *= F32(amp * 2.0) * (1.0 - s.open_sky * 0.7)
    tex += 1.0
    s.img *= tex[None]


def _grade(s: _Scene) -> None:
    t, look = s.traits, s.look
    img = s.img
    if s.sched.smooth > 0:
        sm = _blur3(img, s.sched.smooth)
        img += (sm - img) * F32(0.7)
    if look.soften > 0:
        sigma = look.soften * min(s.h, s.w) / 512
        img[:] = _blur3(img, sigma)
    if t.softness > 0:  # dreamy/soft moods: bloom
        bloom = _blur3(img, min(s.h, s.w) * 0.03)
        img += (np.maximum(bloom, img) - img) * F32(0.6 * t.softness)
    g = s.guidance
    contrast = t.contrast * look.contrast * s.sched.contrast * (0.9 + 0.022 * g)
    saturation = t.saturation * look.saturation * (0.92 + 0.016 * g)
    brightness = t.brightness * look.brightness
    lum = _luma(img)
    img -= lum[None]
    img *= F32(saturation)
    lum -= 0.5
    lum *= F32(contrast)
    lum += 0.5
    img *= F32(math.sqrt(contrast))
    img += lum[None]
    img *= F32(brightness)
    if look.warmth:
        img[0] *= F32(1 + look.warmth)
        img[2] *= F32(1 - look.warmth)
    vig = max(t.vignette, look.vignette)
    if vig > 0:
        r2 = np.square((s.X - 0.5) * 2) * F32(0.7) + np.square((s.Y - 0.5) * 2) * F32(0.7)
        img *= (1.0 - F32(vig * 0.6) * r2)[None]


def _suppress(s: _Scene) -> None:
    """Negative colour words: pull pixels of those hues toward grey."""
    negs = [np.array(rgb, F32) / 255 for _, rgb in s.traits.negative_colours]
    if not negs:
        return
    img = s.img
    np.clip(img, 0, 1, out=img)
    hsv = cv2.cvtColor(cv2.merge([img[0], img[1], img[2]]), cv2.COLOR_RGB2HSV)
    hue, sat = hsv[:, :, 0], hsv[:, :, 1]
    lum = _luma(img)
    for c in negs:
        h, sc, v = _hsv(c)
        if sc < 0.18 or v < 0.12:  # black / white / grey: compress that end of the range
            if v < 0.5:
                img *= 0.8
                img += 0.2
            else:
                img *= 0.82
            continue
        dh = np.abs(hue - F32(h * 360))
        dh = np.minimum(dh, 360 - dh)
        m = np.clip(1 - dh / 50, 0, 1) * _smooth(0.08, 0.3, sat) * F32(0.92)
        np.subtract(lum[None], img, out=s.tmp)
        s.tmp *= m
        img += s.tmp
