"""Looks: each endpoint's (and model's) rendering character, and how a scheduler's name
nudges the noise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2

from engine.render.prompt import (
    PromptTraits,
)
from engine.render.text_to_image.noise import _digest

# Default `model` per endpoint, so an omitted model and the explicit default render alike.
_DEFAULT_MODELS = {
    "re-craft/generative": "v3",
    "sdxl/generative": "v1",
    "sdxl/pony": "pony",
}


@dataclass(frozen=True)
class _Look:
    """Per-endpoint (or per-style) rendering character."""

    saturation: float = 1.0
    contrast: float = 1.0
    brightness: float = 1.0
    warmth: float = 0.0  # + warm, - cool white balance
    detail: int = 0  # extra (or fewer) noise octaves
    soften: float = 0.0  # blur sigma at work resolution, in 1/512ths of the short side
    sharpen: float = 0.0  # unsharp-mask amount at full size
    grain: float = 0.0  # film grain standard deviation, 0..255 units
    vignette: float = 0.0
    coarse: float = 1.0  # > 1 renders on a smaller work canvas (softer, older models)
    effects: tuple[str, ...] = ()
    upscale: int = cv2.INTER_CUBIC
    texture: float = 0.02  # fine detail noise on surfaces


_LOOKS: dict[str, _Look] = {
    "flux/1.1/pro-ultra": _Look(
        saturation=1.08,
        contrast=1.08,
        detail=2,
        sharpen=0.7,
        grain=2.0,
        vignette=0.12,
        effects=("clarity",),
        texture=0.03,
    ),
    "flux/1.1/pro": _Look(
        saturation=1.06, contrast=1.05, detail=1, sharpen=0.5, grain=1.5, effects=("clarity",)
    ),
    "flux/pro": _Look(
        saturation=1.04, contrast=1.04, detail=1, sharpen=0.4, grain=1.5, warmth=0.03
    ),
    "flux/fill-pro": _Look(contrast=0.98, detail=1, sharpen=0.3, effects=("fill",)),
    "flux/depth-pro": _Look(detail=1, sharpen=0.35, effects=("depth",)),
    "flux/canny-pro": _Look(contrast=1.04, detail=1, sharpen=0.3, effects=("edges",)),
    "flux/dev": _Look(saturation=1.02, contrast=1.02, sharpen=0.25, grain=1.5),
    "flux/dev-lora": _Look(saturation=1.1, sharpen=0.2, vignette=0.2, effects=("lora",)),
    "flux/fill-dev": _Look(contrast=0.96, soften=0.6, effects=("fill",)),
    "flux/depth-dev": _Look(soften=0.4, effects=("depth",)),
    "flux/canny-dev": _Look(soften=0.3, effects=("edges",)),
    "flux/redux-dev": _Look(saturation=1.05, effects=("remix",)),
    "flux/schnell": _Look(
        contrast=1.06,
        detail=-2,
        soften=0.8,
        effects=("steps",),
        upscale=cv2.INTER_LINEAR,
        texture=0.0,
    ),
    "flux/redux-schnell": _Look(detail=-1, soften=0.5, effects=("remix", "steps")),
    "flux/schnell-lora": _Look(detail=-1, soften=0.5, vignette=0.2, effects=("lora", "steps")),
    "flux/cinema": _Look(
        contrast=1.12,
        saturation=0.95,
        grain=4.0,
        vignette=0.35,
        sharpen=0.3,
        effects=("teal_orange", "flare", "letterbox"),
    ),
    "flux/ghibsky": _Look(
        saturation=1.12,
        brightness=1.05,
        contrast=0.94,
        effects=("cumulus", "painterly"),
        texture=0.0,
    ),
    "flux/hyper": _Look(saturation=1.45, contrast=1.28, sharpen=0.6, effects=("hyper",)),
    "flux/formfinder": _Look(contrast=1.05, effects=("geometric",), texture=0.01),
    "flux/black-light": _Look(saturation=1.2, effects=("neon",), texture=0.0),
    "re-craft/generative": _Look(sharpen=0.35, grain=1.0),
    "sdxl/generative": _Look(saturation=1.05, contrast=1.04, sharpen=0.3, grain=1.0),
    "sdxl/pony": _Look(saturation=1.18, brightness=1.04, effects=("cel",), texture=0.0),
    "sdxl/emoji": _Look(),
    "sd/3.5/large-turbo": _Look(contrast=1.1, saturation=1.1, soften=0.4, effects=("steps",)),
    "sd/3.5/large": _Look(saturation=1.04, detail=1, sharpen=0.4, grain=1.0),
    "sd/3.5/medium": _Look(sharpen=0.15, soften=0.3, warmth=-0.02),
    "sd/3/generative": _Look(saturation=0.97, warmth=-0.03, grain=1.5, effects=("sd3",)),
    "sd/1/generative": _Look(
        saturation=0.9,
        contrast=0.93,
        detail=-2,
        soften=0.8,
        coarse=1.7,
        effects=("old",),
        upscale=cv2.INTER_LINEAR,
        texture=0.01,
    ),
}

_MODEL_LOOKS: dict[tuple[str, str], dict[str, object]] = {
    ("re-craft/generative", "v2"): dict(detail=-1, saturation=0.95, sharpen=0.2),
    ("sdxl/generative", "lightning"): dict(contrast=1.12, soften=0.5, effects=("steps",)),
    ("sdxl/pony", "ponyai v6"): dict(saturation=1.3, contrast=1.08),
    ("sdxl/pony", "wai anime sfw"): dict(saturation=1.0, brightness=1.12, contrast=0.9),
}


@dataclass(frozen=True)
class _Sched:
    """How a diffusion scheduler name nudges noise character (deterministically)."""

    octaves: int = 0
    gain: float = 0.5
    smooth: float = 0.0
    contrast: float = 1.0
    grain: float = 0.0
    detail: float = 0.0
    phase: int = 0


def _scheduler(name: str | None) -> _Sched:
    if not name:
        return _Sched()
    n = name.lower()
    tokens = n.split()
    octaves = 1 if ("heun" in n or "dpm2" in n or "++" in n) else 0
    octaves -= 1 if n in ("ddim", "pndm", "lms") else 0
    return _Sched(
        octaves=octaves,
        gain=0.5 + (0.06 if "karras" in n else 0.0) - (0.05 if "lms" in n else 0.0),
        smooth=0.6 if tokens[0] in ("ddim", "pndm", "lms", "unipc", "deis") else 0.0,
        contrast=1.05 if "karras" in n else 1.0,
        grain=2.5 if "sde" in n or n == "ddpm" else 0.0,
        detail=0.035 if " a" in f" {n} " or n.endswith(" a") or "ancestral" in n else 0.012,
        phase=int.from_bytes(_digest("scheduler", name)[:4], "little"),
    )


def _resolve_look(endpoint: str, params: dict, traits: PromptTraits) -> _Look:
    look = _LOOKS.get(endpoint, _LOOKS["flux/dev"])
    model = str(params.get("model") or _DEFAULT_MODELS.get(endpoint, "")).lower()
    extra = _MODEL_LOOKS.get((endpoint, model))
    if extra:
        changes = dict(extra)
        if "effects" in changes:
            changes["effects"] = look.effects + tuple(changes["effects"])  # type: ignore[operator]
        look = replace(look, **changes)  # type: ignore[arg-type]
    if endpoint == "flux/1.1/pro-ultra" and params.get("raw"):
        # Raw mode: less processed, more natural: flatter, less saturated, real film grain.
        look = replace(
            look,
            saturation=0.82,
            contrast=0.9,
            sharpen=0.15,
            grain=7.0,
            vignette=0.05,
            effects=("raw",),
            warmth=0.02,
        )
    return look
