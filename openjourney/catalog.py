"""Declarative catalog of the Openjourney REST API.

One entry in ``ENDPOINTS`` per endpoint of the published reference (updated December 14,
2024), with the corrections listed in ``spec/api-contract.md``. The local engine validates
requests with :func:`validate`, the studio builds one form per POST endpoint from the fields,
the HTTP client resolves paths with :func:`get_endpoint`, and ``openjourney.openapi`` turns the
catalog into an OpenAPI document. Adding an endpoint is adding one ``Endpoint(...)`` entry.

Plain Python on purpose: nothing here imports Django.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import Enum
from urllib.parse import urlsplit

__all__ = [
    "CANVAS_ALL",
    "CANVAS_SIZES",
    "CANVAS_THREE",
    "CLARIFY_TYPES",
    "DEFAULT_CANVAS",
    "ENDPOINTS",
    "EXTENSION_ENDPOINTS",
    "JOB_CANCEL",
    "JOB_STATUSES",
    "PONY_MODELS",
    "PONY_SCHEDULERS",
    "PROMPT_MAX_LENGTH",
    "RECRAFT_MODELS",
    "RECRAFT_STYLES",
    "RECRAFT_SVG_STYLES",
    "SDXL_MODELS",
    "SEED_MAX",
    "TERMINAL_STATUSES",
    "UPSCALE_MODELS",
    "URL_MAX_LENGTH",
    "Endpoint",
    "Family",
    "Field",
    "FieldKind",
    "Output",
    "UnknownEndpoint",
    "ValidationResult",
    "by_family",
    "get_endpoint",
    "model_endpoints",
    "utility_endpoints",
    "validate",
]


class Family(str, Enum):
    """The group an endpoint belongs to in the reference."""

    FLUX = "flux"
    RECRAFT = "re-craft"
    SDXL = "sdxl"
    SD = "sd"
    UTILITIES = "utils"
    JOB = "job"
    INTERNAL = "internal"

    @property
    def label(self) -> str:
        """Human-readable name, as the reference writes it."""
        return _FAMILY_LABELS[self]


_FAMILY_LABELS = {
    Family.FLUX: "FLUX",
    Family.RECRAFT: "Re-Craft",
    Family.SDXL: "SDXL",
    Family.SD: "SD",
    Family.UTILITIES: "Utilities",
    Family.JOB: "Jobs",
    Family.INTERNAL: "Internal",
}

_MODEL_FAMILIES = frozenset({Family.FLUX, Family.RECRAFT, Family.SDXL, Family.SD})


class FieldKind(str, Enum):
    """JSON type of a request field. IMAGE is an http(s) URL string the service fetches."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    IMAGE = "image"


class Output(str, Enum):
    """Media type of what a finished job produces."""

    PNG = "image/png"
    SVG = "image/svg+xml"
    TEXT = "text/plain"
    JSON = "application/json"


CANVAS_SIZES: dict[str, tuple[int, int]] = {
    "Square": (1024, 1024),
    "Portrait": (768, 1344),
    "Landscape": (1344, 768),
    "Wide Landscape": (1536, 640),
}
CANVAS_ALL: tuple[str, ...] = ("Square", "Portrait", "Landscape", "Wide Landscape")
CANVAS_THREE: tuple[str, ...] = ("Square", "Portrait", "Landscape")
DEFAULT_CANVAS = "Square"

# A job's life: starting -> booting -> processing, then exactly one terminal status.
JOB_STATUSES: tuple[str, ...] = (
    "starting",
    "booting",
    "processing",
    "succeeded",
    "failed",
    "cancelled",
)
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})

SEED_MAX = 2**32 - 1
PROMPT_MAX_LENGTH = 2000
URL_MAX_LENGTH = 2048


@dataclass(frozen=True)
class Field:
    """One request field (or path parameter) of an endpoint."""

    name: str
    kind: FieldKind
    label: str
    help: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: object = None
    minimum: float | int | None = None
    maximum: float | int | None = None
    max_length: int | None = None
    multiline: bool = False

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"Field name {self.name!r} is not an identifier.")
        if self.required and self.default is not None:
            raise ValueError(f"Required field {self.name!r} cannot have a default.")
        if self.choices and self.default is not None and self.default not in self.choices:
            raise ValueError(f"Default of {self.name!r} is not among its choices.")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError(f"Field {self.name!r} has duplicate choices.")


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the API, as the reference documents it."""

    path: str
    method: str
    family: Family
    title: str
    description: str
    fields: tuple[Field, ...] = ()
    output: Output = Output.PNG
    canvas_scale: float = 1.0
    # URI parameters such as the job id; their names must match the {placeholders} in path.
    path_params: tuple[Field, ...] = ()

    def __post_init__(self) -> None:
        if not self.path.startswith("/v1/"):
            raise ValueError(f"Path {self.path!r} must start with /v1/.")
        if self.method not in ("GET", "POST"):
            raise ValueError(f"Unsupported method {self.method!r} for {self.path}.")
        if self.method == "GET" and self.fields:
            raise ValueError(f"GET endpoint {self.path} cannot have body fields.")
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"Duplicate field names in {self.path}.")
        placeholders = tuple(_PLACEHOLDER.findall(self.path))
        if placeholders != tuple(p.name for p in self.path_params):
            raise ValueError(f"path_params of {self.path} do not match its placeholders.")
        canvas = self.field("canvas")
        if canvas is not None and any(c not in CANVAS_SIZES for c in canvas.choices):
            raise ValueError(f"Canvas of {self.path} has a value without a size.")

    @property
    def slug(self) -> str:
        """The path without its leading ``/v1/``, e.g. ``flux/1.1/pro-ultra``."""
        return self.path.removeprefix("/v1/")

    @property
    def display_title(self) -> str:
        """Title that is unique across the catalog, e.g. ``SDXL Generative``."""
        return f"{self.family.label} {self.title}" if self.is_model else self.title

    def field(self, name: str) -> Field | None:
        """The body field called ``name``, or None."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        return None

    @property
    def field_names(self) -> tuple[str, ...]:
        """Names of the body fields, in the reference's order."""
        return tuple(f.name for f in self.fields)

    @property
    def takes_seed(self) -> bool:
        """Whether the endpoint has a ``seed`` field."""
        return self.field("seed") is not None

    @property
    def is_model(self) -> bool:
        """Whether the endpoint is a generative model (FLUX, Re-Craft, SDXL, SD)."""
        return self.family in _MODEL_FAMILIES

    @property
    def is_utility(self) -> bool:
        """Whether the endpoint is one of the image utilities under ``/v1/utils``."""
        return self.family is Family.UTILITIES

    @property
    def image_fields(self) -> tuple[Field, ...]:
        """The fields holding image URLs."""
        return tuple(f for f in self.fields if f.kind is FieldKind.IMAGE)

    @property
    def canvases(self) -> tuple[str, ...]:
        """The canvas values this endpoint accepts; empty when it has no canvas field."""
        canvas = self.field("canvas")
        return canvas.choices if canvas is not None else ()

    def size_for(self, canvas: str | None) -> tuple[int, int]:
        """Exact output size (width, height) in pixels for a canvas value.

        ``None``, or any value for an endpoint without a canvas field, gives Square.
        Raises ValueError for a canvas the endpoint does not offer.
        """
        if canvas is None or not self.canvases:
            canvas = DEFAULT_CANVAS
        elif canvas not in self.canvases:
            raise ValueError(f"{self.path} has no canvas {canvas!r}.")
        width, height = CANVAS_SIZES[canvas]
        return round(width * self.canvas_scale), round(height * self.canvas_scale)


# --- field builders, so that each endpoint below stays one readable entry -------------------


def _prompt(help: str = "Content or scene to create") -> Field:
    return Field(
        "prompt",
        FieldKind.STRING,
        "Prompt",
        help,
        required=True,
        max_length=PROMPT_MAX_LENGTH,
        multiline=True,
    )


def _negative_prompt() -> Field:
    return Field(
        "negative_prompt",
        FieldKind.STRING,
        "Negative prompt",
        "Elements to avoid in the generated image",
        max_length=PROMPT_MAX_LENGTH,
        multiline=True,
    )


def _canvas(choices: tuple[str, ...] = CANVAS_THREE) -> Field:
    return Field(
        "canvas", FieldKind.STRING, "Canvas", _or_list(choices), required=True, choices=choices
    )


def _seed() -> Field:
    # No default: the caller or the engine picks a random seed and reports it on the job.
    return Field(
        "seed",
        FieldKind.INTEGER,
        "Seed",
        "Reproducible generation",
        minimum=0,
        maximum=SEED_MAX,
    )


def _guidance() -> Field:
    return Field(
        "guidance",
        FieldKind.NUMBER,
        "Guidance",
        "Controls how closely the generated image should adhere to the prompt; "
        "higher values make the image more aligned with the prompt",
        default=7.5,
        minimum=1,
        maximum=20,
    )


def _choice(name: str, label: str, choices: tuple[str, ...], default: str) -> Field:
    return Field(name, FieldKind.STRING, label, _or_list(choices), choices=choices, default=default)


def _image(name: str, label: str, help: str) -> Field:
    return Field(name, FieldKind.IMAGE, label, help, required=True, max_length=URL_MAX_LENGTH)


def _or_list(choices: tuple[str, ...]) -> str:
    """The reference's way of listing values: "A, B and C" (two values: "A or B")."""
    if len(choices) == 2:
        return f"{choices[0]} or {choices[1]}"
    return f"{', '.join(choices[:-1])} and {choices[-1]}"


def _flux(
    slug: str,
    title: str,
    description: str,
    fields: tuple[Field, ...] | None = None,
    canvas_scale: float = 1.0,
) -> Endpoint:
    """A FLUX endpoint; the fields default to the common prompt, canvas (three values), seed."""
    if fields is None:
        fields = (_prompt(), _canvas(), _seed())
    return Endpoint(
        f"/v1/flux/{slug}",
        "POST",
        Family.FLUX,
        title,
        description,
        fields,
        canvas_scale=canvas_scale,
    )


def _sd(slug: str, title: str, description: str) -> Endpoint:
    return Endpoint(
        f"/v1/sd/{slug}", "POST", Family.SD, title, description, (_prompt(), _canvas(), _seed())
    )


RECRAFT_MODELS = ("v2", "v3")
RECRAFT_STYLES = (
    "realistic_image",
    "realistic_image/b_and_w",
    "realistic_image/enterprise",
    "realistic_image/hard_flash",
    "realistic_image/hdr",
    "realistic_image/motion_blur",
    "realistic_image/natural_light",
    "realistic_image/studio_portrait",
    "digital_illustration",
    "digital_illustration/2d_art_poster",
    "digital_illustration/2d_art_poster_2",
    "digital_illustration/3d",
    "digital_illustration/80s",
    "digital_illustration/engraving_color",
    "digital_illustration/glow",
    "digital_illustration/grain",
    "digital_illustration/hand_drawn",
    "digital_illustration/hand_drawn_outline",
    "digital_illustration/handmade_3d",
    "digital_illustration/infantile_sketch",
    "digital_illustration/kawaii",
    "digital_illustration/pixel_art",
    "digital_illustration/psychedelic",
    "digital_illustration/seamless",
    "digital_illustration/voxel",
    "digital_illustration/watercolor",
)
RECRAFT_SVG_STYLES = ("engraving", "line_art", "line_circuit", "linocut")
SDXL_MODELS = ("v1", "lightning")
PONY_MODELS = ("pony", "ponyai v6", "wai anime sfw")
PONY_SCHEDULERS = (
    "DPM++ 2M SDE Karras",
    "UniPC",
    "Heun",
    "DDIM",
    "DPM2 a",
    "DPM2 a Karras",
    "DPM SDE",
    "DDPM",
    "DPM++ SDE",
    "DPM++ SDE Karras",
    "LMS",
    "LMS Karras",
    "Euler a",
    "Euler",
    "PNDM",
    "DPM2",
    "DPM2 Karras",
    "DEIS",
    "DPM++ 2M",
    "DPM++ 2M Karras",
)
CLARIFY_TYPES = ("Image Debluring (REDS)", "Image Denoising", "Image Debluring (GoPro)")
UPSCALE_MODELS = (
    "Openjourney Redefine",
    "EpicRealism Natural",
    "Real-ESRGAN",
    "Animagine Redefine",
)

_JOB_ID = Field("id", FieldKind.STRING, "Job ID", "Job identifier", required=True)

# Defaults of optional choice fields are our choice (the reference gives none): the newest
# Re-Craft model, the base SDXL and Pony checkpoints, the first scheduler listed, a neutral
# style, a general-purpose restoration type and the general-purpose upscaler.
ENDPOINTS: tuple[Endpoint, ...] = (
    # --- FLUX --------------------------------------------------------------------------------
    _flux(
        "1.1/pro-ultra",
        "1.1 Pro Ultra",
        "Most advanced model offering exceptional quality up to 4 megapixels, featuring Ultra "
        "and Raw modes for superior detail and natural aesthetics.",
        fields=(
            _prompt(),
            _canvas(CANVAS_ALL),
            Field(
                "raw",
                FieldKind.BOOLEAN,
                "Raw mode",
                "Less processed and natural-looking",
                default=False,
            ),
            _seed(),
        ),
        canvas_scale=2.0,  # "up to 4 megapixels": the contract doubles the table
    ),
    _flux(
        "1.1/pro",
        "1.1 Pro",
        "High-performance model delivering professional-grade outputs with excellent image "
        "quality and strong prompt adherence.",
        fields=(_prompt(), _canvas(CANVAS_ALL), _seed()),
    ),
    _flux(
        "pro",
        "Pro",
        "Flagship model offering state-of-the-art performance with top-tier prompt following "
        "and visual quality.",
    ),
    _flux(
        "fill-pro",
        "Fill Pro",
        "State-of-the-art inpainting and outpainting model for seamless image editing and "
        "extension.",
    ),
    _flux(
        "depth-pro",
        "Depth Pro",
        "Professional depth-aware model enabling superior 3D understanding and spatial "
        "composition.",
    ),
    _flux(
        "canny-pro",
        "Canny Pro",
        "Advanced edge-detection model for precise structural control.",
    ),
    _flux(
        "dev",
        "Dev",
        "Open-weight model balancing quality and performance, designed for non-commercial "
        "applications.",
    ),
    _flux(
        "dev-lora",
        "Dev LoRA",
        "An adaptation of the FLUX Dev model that incorporates Low-Rank Adaptation (LoRA) "
        "technology. This allows for efficient customization of the model for specific styles "
        "or domains while maintaining high-quality outputs.",
    ),
    _flux(
        "fill-dev",
        "Fill Dev",
        "Development version of the inpainting model for testing and prototyping.",
    ),
    _flux(
        "depth-dev",
        "Depth Dev",
        "12-billion parameter model for depth-aware image generation.",
    ),
    _flux(
        "canny-dev",
        "Canny Dev",
        "Development version using ControlNet for Canny edge detection.",
    ),
    _flux(
        "redux-dev",
        "Redux Dev",
        "An adapter for the FLUX Dev model that allows for mixing and recreating input images "
        "with text prompts. It's particularly useful for image variation and restyling tasks.",
    ),
    _flux(
        "schnell",
        "Schnell",
        "High-speed model optimized for rapid generation, capable of producing images in 1-4 "
        "steps.",
        fields=(_prompt(),),
    ),
    _flux(
        "redux-schnell",
        "Redux Schnell",
        "Similar to Redux Dev, but optimized for speed. It allows for quick image variations "
        "and restyling using the faster FLUX Schnell base model.",
    ),
    _flux(
        "schnell-lora",
        "Schnell LoRA",
        "A version of the FLUX Schnell model that incorporates LoRA technology. This allows "
        "for rapid fine-tuning and adaptation of the fast Schnell model to specific styles or "
        "use cases while maintaining its speed advantage.",
    ),
    _flux(
        "cinema",
        "Cinema",
        "A specialized model designed to generate cinematic-style images with film-like "
        "qualities. It's ideal for creating movie-inspired visuals or scenes with a cinematic "
        "aesthetic.",
    ),
    _flux(
        "ghibsky",
        "Ghibsky",
        "An anime and illustration-style image generation model inspired by Studio Ghibli's "
        "distinctive art style. It excels at creating whimsical, fantastical scenes with a "
        "characteristic Ghibli-esque charm.",
    ),
    _flux(
        "hyper",
        "Hyper",
        "A model designed for high-energy, stylized image generation. It's capable of "
        "producing vibrant, dynamic visuals with exaggerated features or effects.",
    ),
    _flux(
        "formfinder",
        "Formfinder",
        "A model focused on shape and form detection. It's particularly useful for "
        "architectural and design applications, helping to identify and generate specific "
        "structural forms.",
    ),
    _flux(
        "black-light",
        "Black Light",
        "Fine-tuned model for creating surreal, otherworldly scenes with glowing, neon-like "
        "elements.",
    ),
    # --- Re-Craft ----------------------------------------------------------------------------
    Endpoint(
        # The reference shows /v1/sdxl/generative here by mistake (see the contract).
        "/v1/re-craft/generative",
        "POST",
        Family.RECRAFT,
        "Generative",
        "Recraft V2 and V3 are AI models designed for versatile image generation. These models "
        "offer a range of capabilities, from high-quality professional outputs to anatomically "
        "accurate designs, catering to diverse user needs in graphic design and creative "
        "projects.",
        (
            _prompt(),
            _choice("model", "Model", RECRAFT_MODELS, "v3"),
            _canvas(),
            _choice("style", "Style", RECRAFT_STYLES, "realistic_image"),
        ),
    ),
    Endpoint(
        "/v1/re-craft/svg",
        "POST",
        Family.RECRAFT,
        "SVG Generator",
        "Recraft V3 SVG and Recraft V2 SVG are AI models designed for versatile vector image "
        "generation. These models offer a range of capabilities, from high-quality "
        "professional SVG outputs to detailed vector graphics, catering to diverse user needs "
        "in logo design, icon creation, and scalable illustrations.",
        (
            _prompt("Content to create"),
            _choice("model", "Model", RECRAFT_MODELS, "v3"),
            _canvas(),
            _choice("style", "Style", RECRAFT_SVG_STYLES, "line_art"),
        ),
        output=Output.SVG,
    ),
    # --- SDXL --------------------------------------------------------------------------------
    Endpoint(
        "/v1/sdxl/generative",
        "POST",
        Family.SDXL,
        "Generative",
        "SDXL BASE 1.0 is a state-of-the-art text-to-image generation model developed by "
        "Stability AI. It features 3.5 billion parameters, dual text encoders for better prompt "
        "understanding, and generates images at a native resolution of 1024x1024 pixels. Known "
        "for its exceptional visual quality, it excels in photorealism, artistic styles, and "
        "handling complex compositions. SDXL also simplifies prompt requirements and supports "
        "multi-aspect ratios, making it versatile for various creative applications.",
        (
            _prompt(),
            _choice("model", "Model", SDXL_MODELS, "v1"),
            # Optional here, unlike everywhere else: the contract says leaving it out gives
            # Square (this copy of the reference marks it required; the contract wins).
            Field(
                "canvas",
                FieldKind.STRING,
                "Canvas",
                _or_list(CANVAS_THREE),
                choices=CANVAS_THREE,
                default=DEFAULT_CANVAS,
            ),
            _negative_prompt(),
            _guidance(),
            _seed(),
        ),
    ),
    Endpoint(
        "/v1/sdxl/pony",
        "POST",
        Family.SDXL,
        "Pony",
        "SDXL Pony is an advanced text-to-image model built on Stable Diffusion XL, adept at "
        "creating high-quality images across diverse subjects and styles, including humans, "
        "animals, and artistic genres. Trained on 2.6M images, it specializes in both SFW and "
        "NSFW outputs with strong natural language understanding, vibrant colors, and detailed "
        "compositions, making it ideal for fantasy and anime creators.",
        (
            _prompt(),
            _choice("model", "Model", PONY_MODELS, "pony"),
            _canvas(),
            _choice("scheduler", "Scheduler", PONY_SCHEDULERS, "DPM++ 2M SDE Karras"),
            _negative_prompt(),
            _seed(),
        ),
    ),
    Endpoint(
        "/v1/sdxl/emoji",
        "POST",
        Family.SDXL,
        "Emoji Maker",
        "Create Custom Emoji Masterpieces: Inspired by Apple's Iconic Style",
        (_prompt("Emoji to create"),),
    ),
    # --- SD ----------------------------------------------------------------------------------
    _sd(
        "3.5/large-turbo",
        "3.5 Large Turbo",
        "An advanced text-to-image model optimized for fast, high-quality results in 4 "
        "inference steps. Using Adversarial Diffusion Distillation (ADD), it delivers detailed, "
        "photorealistic images and supports diverse artistic styles. Ideal for applications "
        "like digital art, media production, and e-commerce.",
    ),
    _sd(
        "3.5/large",
        "3.5 Large",
        "An advanced text-to-image model with 8.1B parameters, generating up to 1MP "
        "high-quality images. Ideal for digital art, advertising, and VFX, it employs a "
        "Multimodal Diffusion Transformer for diverse outputs and exceptional photorealism, "
        "useful in media, gaming, and education.",
    ),
    _sd(
        "3.5/medium",
        "3.5 Medium",
        "A text-to-image model optimized for creating high-quality images quickly. Balances "
        "speed and detail, supporting diverse styles and uses like design, content creation, "
        "and prototyping.",
    ),
    _sd(
        "3/generative",
        "3.0",
        "This model introduced the Multimodal Diffusion Transformer (MMDiT) architecture, "
        "replacing the UNet with a Rectified Flow Transformer. This change significantly "
        "enhanced image quality and prompt adherence, offering various model sizes to balance "
        "performance and resource efficiency.",
    ),
    Endpoint(
        "/v1/sd/1/generative",
        "POST",
        Family.SD,
        "1.0",
        "This version introduces latent diffusion for text-to-image synthesis, being capable of "
        "generating images at 512x512 pixels. It quickly gained popularity for its ability to "
        "create detailed and artistic visuals. It is now considered deprecated.",
        (_prompt(), _canvas(), _negative_prompt(), _guidance(), _seed()),
        canvas_scale=0.5,  # "512x512 pixels": the contract halves the table
    ),
    # --- Jobs --------------------------------------------------------------------------------
    Endpoint(
        "/v1/job/{id}",
        "GET",
        Family.JOB,
        "Get a Job",
        "Retrieve a job using its identifier.",
        output=Output.JSON,
        path_params=(_JOB_ID,),
    ),
    # --- Utilities ---------------------------------------------------------------------------
    Endpoint(
        "/v1/utils/clarify",
        "POST",
        Family.UTILITIES,
        "Clarify",
        "Image Restoration Algorithm for Blured/Bad images.",
        (
            _image("image", "Image", "Image to restore (LINK)"),
            _choice("type", "Type", CLARIFY_TYPES, "Image Denoising"),
        ),
    ),
    Endpoint(
        "/v1/utils/facerestore",
        "POST",
        Family.UTILITIES,
        "Face Restore",
        "Face Restoration Algorithm for Blured/Bad images.",
        (_image("image", "Image", "Face to restore (LINK)"),),
    ),
    Endpoint(
        "/v1/utils/faceswap",
        "POST",
        Family.UTILITIES,
        "Face Swap",
        "Swap faces.",
        (
            _image("source", "Source image", "Image to swap (LINK)"),
            _image("target", "Target image", "Main image (LINK)"),
        ),
    ),
    Endpoint(
        "/v1/utils/prompt-extract",
        "POST",
        Family.UTILITIES,
        "Prompt Extract",
        "Create a prompt based on an image.",
        (_image("image", "Image", "Image (LINK)"),),
        output=Output.TEXT,
    ),
    Endpoint(
        "/v1/utils/remove-background",
        "POST",
        Family.UTILITIES,
        "Background Remover",
        "Remove the background of an image.",
        (_image("image", "Image", "Image (LINK)"),),
    ),
    Endpoint(
        "/v1/utils/upscale",
        "POST",
        Family.UTILITIES,
        "UpScale",
        "Image UpScaling Algorithm.",
        (
            _image("image", "Image", "Image (LINK)"),
            _choice("model", "Model", UPSCALE_MODELS, "Real-ESRGAN"),
        ),
    ),
    # --- Internal ----------------------------------------------------------------------------
    Endpoint(
        "/v1/internal/license",
        "GET",
        Family.INTERNAL,
        "License",
        "Get the license information.",
        output=Output.JSON,
    ),
    Endpoint(
        "/v1/internal/ping",
        "GET",
        Family.INTERNAL,
        "Ping",
        "Ping the API & checkpoints.",
        output=Output.JSON,
    ),
)

# Our documented extension, not part of the reference: kept out of ENDPOINTS so that it gets
# no studio form and get_endpoint() stays the reference's catalog.
JOB_CANCEL = Endpoint(
    "/v1/job/{id}/cancel",
    "POST",
    Family.JOB,
    "Cancel a Job",
    "Cancel a job that has not finished yet; a finished job is returned unchanged.",
    output=Output.JSON,
    path_params=(_JOB_ID,),
)
EXTENSION_ENDPOINTS: tuple[Endpoint, ...] = (JOB_CANCEL,)


class UnknownEndpoint(KeyError):
    """Raised by :func:`get_endpoint` for a path that is not in the catalog."""


_BY_SLUG: dict[str, Endpoint] = {e.slug: e for e in ENDPOINTS}
if len(_BY_SLUG) != len(ENDPOINTS):  # pragma: no cover - guards against a bad new entry
    raise RuntimeError("Two endpoints share a path.")


def get_endpoint(path_or_slug: str) -> Endpoint:
    """Look an endpoint up by its path, with or without ``/v1`` and slashes.

    ``"/v1/flux/dev"``, ``"/flux/dev"``, ``"flux/dev"`` and ``"v1/flux/dev"`` all give the
    same endpoint; templated paths are matched as written (``"job/{id}"``).
    """
    if not isinstance(path_or_slug, str):
        raise UnknownEndpoint(path_or_slug)
    slug = path_or_slug.strip("/")
    if slug.startswith("v1/"):
        slug = slug[3:]
    try:
        return _BY_SLUG[slug]
    except KeyError:
        raise UnknownEndpoint(path_or_slug) from None


def model_endpoints() -> list[Endpoint]:
    """The 30 generative model endpoints, in the reference's order."""
    return [e for e in ENDPOINTS if e.is_model]


def utility_endpoints() -> list[Endpoint]:
    """The six image utilities under ``/v1/utils``, in the reference's order."""
    return [e for e in ENDPOINTS if e.is_utility]


def by_family() -> dict[Family, list[Endpoint]]:
    """Endpoints grouped by family, in Family order; families without endpoints are left out."""
    groups: dict[Family, list[Endpoint]] = {family: [] for family in Family}
    for endpoint in ENDPOINTS:
        groups[endpoint.family].append(endpoint)
    return {family: items for family, items in groups.items() if items}


# --- validation ------------------------------------------------------------------------------


@dataclass
class ValidationResult:
    """Outcome of :func:`validate`: cleaned data and, per field, what is wrong."""

    data: dict[str, object] = dataclass_field(default_factory=dict)
    errors: dict[str, list[str]] = dataclass_field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there are no errors."""
        return not self.errors


REQUIRED = "This field is required."
UNKNOWN = "Unknown field."
NOT_AN_OBJECT = "Expected a JSON object."
NON_FIELD = "__all__"

_TYPE_ERRORS = {
    FieldKind.STRING: "Expected a string.",
    FieldKind.INTEGER: "Expected an integer.",
    FieldKind.NUMBER: "Expected a number.",
    FieldKind.BOOLEAN: "Expected a boolean (true or false).",
    FieldKind.IMAGE: "Expected a URL string.",
}


def validate(endpoint: Endpoint, body: object) -> ValidationResult:
    """Check a decoded JSON request body against an endpoint's fields.

    Collects every problem rather than stopping at the first; never raises on anything
    ``json.loads`` can return. ``null`` for an optional field means "not given"; optional
    fields with a default get it in ``data``.
    """
    if not isinstance(body, dict):
        return ValidationResult(errors={NON_FIELD: [NOT_AN_OBJECT]})
    result = ValidationResult()
    for spec in endpoint.fields:
        value = body.get(spec.name)
        if value is None:
            if spec.required:
                result.errors[spec.name] = [REQUIRED]
            elif spec.default is not None:
                result.data[spec.name] = spec.default
            continue
        cleaned, problems = _clean(spec, value)
        if problems:
            result.errors[spec.name] = problems
        else:
            result.data[spec.name] = cleaned
    for key in body:
        if not isinstance(key, str) or endpoint.field(key) is None:
            result.errors.setdefault(str(key), []).append(UNKNOWN)
    return result


def _clean(spec: Field, value: object) -> tuple[object, list[str]]:
    """Type-check and convert one non-null value; returns (cleaned value, problems)."""
    kind = spec.kind
    type_error = [_TYPE_ERRORS[kind]]
    if kind is FieldKind.BOOLEAN:
        return (value, []) if isinstance(value, bool) else (None, type_error)
    if kind in (FieldKind.STRING, FieldKind.IMAGE):
        if not isinstance(value, str):
            return None, type_error
        return value, _string_problems(spec, value)
    # Numbers. bool is a subclass of int in Python, but true is not 1 in this API.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, type_error
    if isinstance(value, float) and not math.isfinite(value):
        return None, ["Expected a finite number."]
    if kind is FieldKind.INTEGER and isinstance(value, float):
        if not value.is_integer():
            return None, type_error
        value = int(value)  # 42.0 is how some JSON encoders write 42
    problems = _bound_problems(spec, value)
    if problems:
        return None, problems
    if kind is FieldKind.NUMBER:
        try:
            value = float(value)
        except OverflowError:  # an int too large for a float, on a field with no maximum
            return None, ["Expected a finite number."]
    return value, []


def _string_problems(spec: Field, value: str) -> list[str]:
    if spec.required and not value.strip():
        return ["This field may not be blank."]
    if spec.kind is not FieldKind.IMAGE and (
        "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    ):
        # NUL and lone surrogates can be neither stored (PostgreSQL refuses them) nor sent on.
        return ["Contains a NUL character or an unpaired surrogate, which is not allowed."]
    problems: list[str] = []
    if spec.max_length is not None and len(value) > spec.max_length:
        problems.append(
            f"Ensure this value has at most {spec.max_length} characters (it has {len(value)})."
        )
    if spec.choices and value not in spec.choices:
        problems.append(f"'{_shorten(value)}' is not one of: {', '.join(spec.choices)}.")
    if spec.kind is FieldKind.IMAGE and not problems and not _is_http_url(value):
        problems.append("Enter a valid http or https URL.")
    return problems


def _bound_problems(spec: Field, value: int | float) -> list[str]:
    if spec.minimum is not None and value < spec.minimum:
        return [f"Must be at least {_number(spec.minimum)}."]
    if spec.maximum is not None and value > spec.maximum:
        return [f"Must be at most {_number(spec.maximum)}."]
    return []


def _is_http_url(value: str) -> bool:
    """An absolute http(s) URL with a host. Whether the host is safe to fetch is not checked
    here: that happens where the URL is fetched."""
    if any(
        ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF
        for ch in value
    ):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return False
    userinfo, _, host = parts.netloc.rpartition("@")
    if "[" in userinfo or "]" in userinfo:
        return False
    if "[" in host or "]" in host:
        # Brackets only around a whole IPv6 literal, as in http://[::1]:8000/.
        return bool(_BRACKETED_HOST.fullmatch(host))
    return bool(_HOST_PORT.fullmatch(host))


_BRACKETED_HOST = re.compile(r"\[[0-9A-Fa-f:.]+\](?::\d*)?")
_HOST_PORT = re.compile(r"[^\[\]@/?#:\s]+(?::\d*)?")


def _number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _shorten(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
