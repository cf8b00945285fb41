"""The Pony endpoint's 20 scheduler names, as diffusers schedulers: one table.

The names are AUTOMATIC1111's; the mapping follows diffusers' own table of A1111 samplers
(docs: "Schedulers", A1111 equivalents). "DPM SDE" has no A1111 sampler of that name; our
choice is the single-step SDE solver, distinct from "DPM++ SDE" (k-diffusion's sampler) and
"DPM++ 2M SDE" (multistep). Plain data: diffusers is imported by :func:`build_scheduler`.
"""

from __future__ import annotations

from typing import Any

# name -> (diffusers class, keyword arguments over the pipeline's own scheduler config)
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "DPM++ 2M SDE Karras": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True},
    ),
    "UniPC": ("UniPCMultistepScheduler", {}),
    "Heun": ("HeunDiscreteScheduler", {}),
    "DDIM": ("DDIMScheduler", {}),
    "DPM2 a": ("KDPM2AncestralDiscreteScheduler", {}),
    "DPM2 a Karras": ("KDPM2AncestralDiscreteScheduler", {"use_karras_sigmas": True}),
    "DPM SDE": ("DPMSolverSinglestepScheduler", {"algorithm_type": "sde-dpmsolver++"}),
    "DDPM": ("DDPMScheduler", {}),
    "DPM++ SDE": ("DPMSolverSDEScheduler", {}),
    "DPM++ SDE Karras": ("DPMSolverSDEScheduler", {"use_karras_sigmas": True}),
    "LMS": ("LMSDiscreteScheduler", {}),
    "LMS Karras": ("LMSDiscreteScheduler", {"use_karras_sigmas": True}),
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "Euler": ("EulerDiscreteScheduler", {}),
    "PNDM": ("PNDMScheduler", {"skip_prk_steps": True}),
    "DPM2": ("KDPM2DiscreteScheduler", {}),
    "DPM2 Karras": ("KDPM2DiscreteScheduler", {"use_karras_sigmas": True}),
    "DEIS": ("DEISMultistepScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}),
    "DPM++ 2M Karras": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True},
    ),
}


def build_scheduler(name: str, base_config: Any) -> Any:
    """A fresh scheduler for ``name``, on the pipeline's own scheduler config.

    The pipeline's config keeps what the model was trained with (betas, prediction type,
    timestep spacing); the table changes only the sampler. Raises KeyError for a name the
    table does not have.
    """
    import diffusers

    class_name, options = SCHEDULERS[name]
    return getattr(diffusers, class_name).from_config(base_config, **options)
