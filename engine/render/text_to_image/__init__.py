"""Deterministic procedural text-to-image renderer for the local engine.

No model weights: an image is composed from layers (sky gradient, clouds, sun or moon,
mountain ridges, water with reflections, skyline, trees, a central figure, or a
domain-warped abstract field) chosen from the prompt, then graded by mood, guidance and
scheduler, given the endpoint's own look (cinema letterbox, black-light neon, pony cel
shading ...) or the Re-Craft style, and finished at full size.

All randomness comes from ``numpy.random.Generator(PCG64)`` seeded by a BLAKE2b digest of
(endpoint, seed, model, prompt content) with one named sub-stream per layer, so the same
request gives byte-identical PNGs and removing one layer does not reshuffle the others.

The modules, in the order a render uses them (``render_image`` below):

- ``noise``: seeded sub-streams, value and fractal noise, blurs;
- ``palettes``: colour helpers and each scene's lighting palette;
- ``looks``: each endpoint's and model's look, the scheduler's nudge;
- ``scene``: the work canvas (``_Scene``) and the finishing steps it collects;
- ``compose``: which layers a prompt gets, then grading; the layers themselves are in
  ``sky``, ``land`` and ``subjects``;
- ``effects``: the endpoints' looks after grading; ``styles``: Re-Craft's styles;
- ``finish``: full-size finishing and the PNG encoding; ``emoji``: sdxl/emoji apart.

Names with a leading underscore are the package's own, shared between its modules; the
package's interface is ``__all__``.

Speed: composition happens on a work canvas of about 512x512 pixels (channel-first float32,
updated in place because chained temporaries of that size are slow to allocate), the result
is upscaled with OpenCV's bicubic resize and then gets cheap full-size detail (unsharp mask,
crisp star sprites, a tiled film grain).

Timings: render_image + encode_png (engine/render/png.py), time.perf_counter, best / median
of 5 runs, pinned to one core (``taskset -c 1``) of a 2-core container that other jobs
shared (load ~1.9), prompt "mountains at sunset over a lake":

    flux/dev            1024x1024    86 /  87 ms   (render alone ~36 ms, the rest is PNG)
    flux/dev             768x1344    90 /  94 ms
    flux/dev            1344x768     86 /  96 ms
    flux/dev            1536x640     85 /  91 ms
    flux/1.1/pro-ultra  2048x2048   275 / 279 ms   (render alone ~58 ms)
    flux/1.1/pro-ultra  1536x2688   265 / 268 ms
    flux/1.1/pro-ultra  2688x1536   271 / 276 ms
    flux/1.1/pro-ultra  3072x1280   263 / 267 ms
    flux/dev             512x512     34 /  35 ms
    all 29 endpoints and 26 Re-Craft styles at 1024x1024: median 71 ms, slowest 111-128 ms
    (hdr, hard_flash, engraving_color, psychedelic: busy detail costs PNG time), fastest
    27 ms (pixel_art, emoji).

Runs vary by ~20-30% with the neighbours' load (2048x2048 measured from 222 ms, flux/dev
on a quiet core, to 357 ms, pro-ultra under load). The re-craft/svg renderer
(engine.render.svg) takes 0.3-10 ms per document (engraving up to ~50 ms).
"""

from __future__ import annotations

import dataclasses
import math

from PIL import Image

from engine.render.drawings import CREDIT
from engine.render.prompt import (
    COLOUR_MODIFIERS,
    COLOUR_WORDS,
    MOOD_WORDS,
    PromptTraits,
    analyse_prompt,
)
from engine.render.subject_words import find_subjects
from engine.render.text_to_image.compose import _compose, _detail, _grade, _suppress
from engine.render.text_to_image.effects import _EFFECTS
from engine.render.text_to_image.emoji import _emoji_object, _render_emoji
from engine.render.text_to_image.emoji3d import render_drawing_emoji
from engine.render.text_to_image.finish import _finish
from engine.render.text_to_image.looks import _DEFAULT_MODELS, _resolve_look, _scheduler
from engine.render.text_to_image.noise import _WORK_AREA, _digest, _rng
from engine.render.text_to_image.palettes import _build_palette
from engine.render.text_to_image.scene import _Scene
from engine.render.text_to_image.styles import _STYLES
from openjourney.catalog import PONY_SCHEDULERS, Output, model_endpoints
from openjourney.catalog import RECRAFT_STYLES as CATALOG_RECRAFT_STYLES

__all__ = [
    "ENDPOINTS",
    "RECRAFT_STYLES",
    "SCHEDULERS",
    "render_image",
]

# The catalog is the one place the API's names are spelled (plain Python, no Django).
ENDPOINTS: tuple[str, ...] = tuple(e.slug for e in model_endpoints() if e.output is Output.PNG)
SCHEDULERS: tuple[str, ...] = PONY_SCHEDULERS
RECRAFT_STYLES: tuple[str, ...] = CATALOG_RECRAFT_STYLES


_FACE_WORDS = frozenset({"face", "eyes", "smiley", "eye", "emoji"})


def _content(traits: PromptTraits) -> str:
    """Prompt words that shape the layout (colour and mood words only tint it)."""
    skip = set(COLOUR_WORDS) | set(COLOUR_MODIFIERS) | set(MOOD_WORDS)
    return " ".join(w for w in traits.words if w not in skip and w.removesuffix("s") not in skip)


def render_image(endpoint: str, params: dict, size: tuple[int, int]) -> Image.Image:
    """Render ``endpoint``'s image for the validated ``params`` at exactly ``size`` (w, h).

    RGB for every model except ``sdxl/emoji``, which returns RGBA on transparency.
    """
    width, height = int(size[0]), int(size[1])
    if width < 1 or height < 1:
        raise ValueError(f"invalid size {size!r}")
    prompt = str(params.get("prompt") or "")
    traits = analyse_prompt(prompt, str(params.get("negative_prompt") or ""))
    seed = int(params.get("seed") or 0)
    model = str(params.get("model") or _DEFAULT_MODELS.get(endpoint, "")).lower()
    key = _digest("openjourney-render/1", endpoint, seed, model, _content(traits))
    unwanted = {d.drawing.name for d in find_subjects(traits.negative)}
    drawings = tuple(d for d in find_subjects(prompt) if d.drawing.name not in unwanted)
    if endpoint == "sdxl/emoji":
        if (
            drawings
            and _emoji_object(traits.words) == "face"
            and not _FACE_WORDS & set(traits.words)
        ):
            image = render_drawing_emoji(drawings[0], width, height)
            image.info["Copyright"] = CREDIT
            return image
        return _render_emoji(traits, key, width, height)
    # A colour bound to a subject tints that subject, not the scene's palette.
    bound = {d.colour_name for d in drawings if d.colour_name}
    if bound:
        traits = dataclasses.replace(
            traits, colours=tuple(c for c in traits.colours if c[0] not in bound)
        )

    guidance = params.get("guidance")
    guidance = min(20.0, max(1.0, float(guidance))) if guidance is not None else 7.5
    look = _resolve_look(endpoint, params, traits)
    style = None
    if endpoint == "re-craft/generative":
        style = str(params.get("style") or "realistic_image")
        style = style if style in _STYLES else "realistic_image"
    sched = _scheduler(params.get("scheduler"))

    scale = max(1.0, math.sqrt(width * height / _WORK_AREA)) * look.coarse
    ww, wh = max(16, round(width / scale)), max(16, round(height / scale))
    scene = traits.scenes[0] if traits.scenes else None
    if scene is None and "stars" in traits.subjects:
        scene = "night"
    if style == "digital_illustration/80s":
        scene = "neon"
    weight = min(0.95, max(0.3, 0.35 + 0.06 * guidance))
    palette, scene = _build_palette(traits, _rng(key, "palette"), scene, weight)
    s = _Scene(wh, ww, key, traits, palette, look, sched, guidance)
    s.scene = scene
    s.drawings = drawings if style != "digital_illustration/seamless" else ()
    s.finish.upscale = look.upscale
    _compose(s, style)
    _detail(s)
    _grade(s)
    for name in look.effects:
        _EFFECTS[name](s)
    if style is not None:
        _STYLES[style](s)
    _suppress(s)
    image = Image.fromarray(_finish(s, width, height))
    if s.drawn:
        image.info["Copyright"] = CREDIT  # encode_png writes it as a PNG text chunk
    return image
