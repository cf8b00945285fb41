"""The catalog against the reference and the contract."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from openjourney.catalog import (
    CANVAS_SIZES,
    ENDPOINTS,
    JOB_CANCEL,
    SEED_MAX,
    Endpoint,
    Family,
    Field,
    FieldKind,
    Output,
    UnknownEndpoint,
    by_family,
    get_endpoint,
    model_endpoints,
    utility_endpoints,
)

FOUR_CANVASES = ["Square", "Portrait", "Landscape", "Wide Landscape"]
THREE_CANVASES = ["Square", "Portrait", "Landscape"]

REFERENCE_ORDER = [
    ("POST", "/v1/flux/1.1/pro-ultra", "1.1 Pro Ultra"),
    ("POST", "/v1/flux/1.1/pro", "1.1 Pro"),
    ("POST", "/v1/flux/pro", "Pro"),
    ("POST", "/v1/flux/fill-pro", "Fill Pro"),
    ("POST", "/v1/flux/depth-pro", "Depth Pro"),
    ("POST", "/v1/flux/canny-pro", "Canny Pro"),
    ("POST", "/v1/flux/dev", "Dev"),
    ("POST", "/v1/flux/dev-lora", "Dev LoRA"),
    ("POST", "/v1/flux/fill-dev", "Fill Dev"),
    ("POST", "/v1/flux/depth-dev", "Depth Dev"),
    ("POST", "/v1/flux/canny-dev", "Canny Dev"),
    ("POST", "/v1/flux/redux-dev", "Redux Dev"),
    ("POST", "/v1/flux/schnell", "Schnell"),
    ("POST", "/v1/flux/redux-schnell", "Redux Schnell"),
    ("POST", "/v1/flux/schnell-lora", "Schnell LoRA"),
    ("POST", "/v1/flux/cinema", "Cinema"),
    ("POST", "/v1/flux/ghibsky", "Ghibsky"),
    ("POST", "/v1/flux/hyper", "Hyper"),
    ("POST", "/v1/flux/formfinder", "Formfinder"),
    ("POST", "/v1/flux/black-light", "Black Light"),
    ("POST", "/v1/re-craft/generative", "Generative"),
    ("POST", "/v1/re-craft/svg", "SVG Generator"),
    ("POST", "/v1/sdxl/generative", "Generative"),
    ("POST", "/v1/sdxl/pony", "Pony"),
    ("POST", "/v1/sdxl/emoji", "Emoji Maker"),
    ("POST", "/v1/sd/3.5/large-turbo", "3.5 Large Turbo"),
    ("POST", "/v1/sd/3.5/large", "3.5 Large"),
    ("POST", "/v1/sd/3.5/medium", "3.5 Medium"),
    ("POST", "/v1/sd/3/generative", "3.0"),
    ("POST", "/v1/sd/1/generative", "1.0"),
    ("GET", "/v1/job/{id}", "Get a Job"),
    ("POST", "/v1/utils/clarify", "Clarify"),
    ("POST", "/v1/utils/facerestore", "Face Restore"),
    ("POST", "/v1/utils/faceswap", "Face Swap"),
    ("POST", "/v1/utils/prompt-extract", "Prompt Extract"),
    ("POST", "/v1/utils/remove-background", "Background Remover"),
    ("POST", "/v1/utils/upscale", "UpScale"),
    ("GET", "/v1/internal/license", "License"),
    ("GET", "/v1/internal/ping", "Ping"),
]


def choices(path: str, name: str) -> list[str]:
    field = get_endpoint(path).field(name)
    assert field is not None, f"{path} has no {name}"
    return list(field.choices)


# --- inventory -------------------------------------------------------------------------------


def test_every_endpoint_in_the_references_order() -> None:
    assert [(e.method, e.path, e.title) for e in ENDPOINTS] == REFERENCE_ORDER


def test_counts_per_family() -> None:
    counts = {family: len(items) for family, items in by_family().items()}
    assert counts == {
        Family.FLUX: 20,
        Family.RECRAFT: 2,
        Family.SDXL: 3,
        Family.SD: 5,
        Family.JOB: 1,
        Family.UTILITIES: 6,
        Family.INTERNAL: 2,
    }
    assert list(by_family()) == list(Family)  # Family order
    assert len(ENDPOINTS) == 39
    assert len([e for e in ENDPOINTS if e.method == "POST"]) == 36


def test_model_endpoints_are_29_raster_and_one_svg() -> None:
    models = model_endpoints()
    assert len(models) == 30
    assert all(e.is_model and not e.is_utility for e in models)
    assert [e.slug for e in models if e.output is Output.SVG] == ["re-craft/svg"]
    assert len([e for e in models if e.output is Output.PNG]) == 29


def test_utility_endpoints() -> None:
    utilities = utility_endpoints()
    assert [e.slug for e in utilities] == [
        "utils/clarify",
        "utils/facerestore",
        "utils/faceswap",
        "utils/prompt-extract",
        "utils/remove-background",
        "utils/upscale",
    ]
    assert all(e.is_utility and not e.is_model and e.method == "POST" for e in utilities)
    assert get_endpoint("utils/prompt-extract").output is Output.TEXT
    assert {e.output for e in utilities if e.slug != "utils/prompt-extract"} == {Output.PNG}


def test_get_endpoints_return_json_and_take_no_body() -> None:
    gets = [e for e in ENDPOINTS if e.method == "GET"]
    assert [e.path for e in gets] == ["/v1/job/{id}", "/v1/internal/license", "/v1/internal/ping"]
    assert all(e.output is Output.JSON and e.fields == () for e in gets)
    job = get_endpoint("/v1/job/{id}")
    assert job.family is Family.JOB
    assert [(p.name, p.required, p.help) for p in job.path_params] == [
        ("id", True, "Job identifier")
    ]
    assert {e.family for e in gets[1:]} == {Family.INTERNAL}


def test_family_labels() -> None:
    assert {f: f.label for f in Family} == {
        Family.FLUX: "FLUX",
        Family.RECRAFT: "Re-Craft",
        Family.SDXL: "SDXL",
        Family.SD: "SD",
        Family.UTILITIES: "Utilities",
        Family.JOB: "Jobs",
        Family.INTERNAL: "Internal",
    }
    assert Family("re-craft") is Family.RECRAFT
    assert Family.UTILITIES.value == "utils"


def test_slugs_paths_and_display_titles_are_unique() -> None:
    for attribute in ("slug", "path", "display_title"):
        values = [getattr(e, attribute) for e in ENDPOINTS]
        assert len(set(values)) == len(values), attribute
    assert get_endpoint("re-craft/generative").display_title == "Re-Craft Generative"
    assert get_endpoint("sdxl/generative").display_title == "SDXL Generative"


def test_every_post_endpoint_has_fields_and_a_required_one() -> None:
    for endpoint in ENDPOINTS:
        if endpoint.method == "POST":
            assert any(f.required for f in endpoint.fields), endpoint.path


# --- the contract's corrections ----------------------------------------------------------------


def test_recraft_generative_has_its_own_path() -> None:
    recraft = get_endpoint("/v1/re-craft/generative")
    assert recraft.family is Family.RECRAFT
    assert recraft.field_names == ("prompt", "model", "canvas", "style")
    sdxl = get_endpoint("/v1/sdxl/generative")
    assert sdxl.family is Family.SDXL
    assert sdxl.field_names == ("prompt", "model", "canvas", "negative_prompt", "guidance", "seed")


def test_sdxl_generative_canvas_is_optional_and_defaults_to_square() -> None:
    canvas = get_endpoint("sdxl/generative").field("canvas")
    assert canvas is not None
    assert list(canvas.choices) == THREE_CANVASES
    assert canvas.required is False
    assert canvas.default == "Square"


# --- choices, spelled exactly as the reference spells them --------------------------------------


def test_canvas_choices() -> None:
    for endpoint in ENDPOINTS:
        canvas = endpoint.field("canvas")
        if endpoint.slug in ("flux/1.1/pro-ultra", "flux/1.1/pro"):
            assert list(endpoint.canvases) == FOUR_CANVASES
        elif endpoint.is_model and endpoint.slug not in ("flux/schnell", "sdxl/emoji"):
            assert list(endpoint.canvases) == THREE_CANVASES, endpoint.path
        else:
            assert canvas is None and endpoint.canvases == (), endpoint.path
            continue
        assert canvas is not None
        assert canvas.kind is FieldKind.STRING
        assert canvas.required is (endpoint.slug != "sdxl/generative"), endpoint.path


def test_recraft_choices() -> None:
    for path in ("/v1/re-craft/generative", "/v1/re-craft/svg"):
        assert choices(path, "model") == ["v2", "v3"]
    assert choices("/v1/re-craft/generative", "style") == [
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
    ]
    assert choices("/v1/re-craft/svg", "style") == [
        "engraving",
        "line_art",
        "line_circuit",
        "linocut",
    ]


def test_sdxl_choices() -> None:
    assert choices("/v1/sdxl/generative", "model") == ["v1", "lightning"]
    assert choices("/v1/sdxl/pony", "model") == ["pony", "ponyai v6", "wai anime sfw"]
    assert choices("/v1/sdxl/pony", "scheduler") == [
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
    ]


def test_utility_choices() -> None:
    assert choices("/v1/utils/clarify", "type") == [
        "Image Debluring (REDS)",
        "Image Denoising",
        "Image Debluring (GoPro)",
    ]
    assert choices("/v1/utils/upscale", "model") == [
        "Openjourney Redefine",
        "EpicRealism Natural",
        "Real-ESRGAN",
        "Animagine Redefine",
    ]


def test_help_of_a_choice_field_is_the_references_text() -> None:
    assert get_endpoint("re-craft/svg").field("style").help == (  # type: ignore[union-attr]
        "engraving, line_art, line_circuit and linocut"
    )
    assert get_endpoint("re-craft/svg").field("model").help == "v2 or v3"  # type: ignore[union-attr]
    assert get_endpoint("flux/1.1/pro").field("canvas").help == (  # type: ignore[union-attr]
        "Square, Portrait, Landscape and Wide Landscape"
    )


def test_optional_choice_defaults() -> None:
    expected = {
        ("re-craft/generative", "model"): "v3",
        ("re-craft/generative", "style"): "realistic_image",
        ("re-craft/svg", "model"): "v3",
        ("re-craft/svg", "style"): "line_art",
        ("sdxl/generative", "model"): "v1",
        ("sdxl/generative", "canvas"): "Square",
        ("sdxl/pony", "model"): "pony",
        ("sdxl/pony", "scheduler"): "DPM++ 2M SDE Karras",
        ("utils/clarify", "type"): "Image Denoising",
        ("utils/upscale", "model"): "Real-ESRGAN",
    }
    found = {
        (e.slug, f.name): f.default
        for e in ENDPOINTS
        for f in e.fields
        if f.choices and not f.required
    }
    assert found == expected


# --- other fields --------------------------------------------------------------------------------


def test_prompt_fields() -> None:
    for endpoint in model_endpoints():
        prompt = endpoint.fields[0]
        assert prompt.name == "prompt"
        assert prompt.kind is FieldKind.STRING
        assert prompt.required and prompt.multiline
        assert prompt.max_length == 2000
        assert prompt.label == "Prompt"
    helps = {e.slug: e.field("prompt").help for e in model_endpoints()}  # type: ignore[union-attr]
    assert helps.pop("re-craft/svg") == "Content to create"
    assert helps.pop("sdxl/emoji") == "Emoji to create"
    assert set(helps.values()) == {"Content or scene to create"}


def test_seed_fields() -> None:
    with_seed = [e.slug for e in ENDPOINTS if e.takes_seed]
    without = {e.slug for e in model_endpoints()} - set(with_seed)
    assert without == {"flux/schnell", "sdxl/emoji", "re-craft/generative", "re-craft/svg"}
    assert not any(e.takes_seed for e in ENDPOINTS if not e.is_model)
    for slug in with_seed:
        seed = get_endpoint(slug).field("seed")
        assert seed is not None
        assert (seed.kind, seed.required, seed.default) == (FieldKind.INTEGER, False, None)
        assert (seed.minimum, seed.maximum) == (0, 2**32 - 1) == (0, SEED_MAX)
        assert seed.help == "Reproducible generation"


def test_guidance_negative_prompt_and_raw() -> None:
    assert [e.slug for e in ENDPOINTS if e.field("guidance")] == [
        "sdxl/generative",
        "sd/1/generative",
    ]
    for slug in ("sdxl/generative", "sd/1/generative"):
        guidance = get_endpoint(slug).field("guidance")
        assert guidance is not None
        assert guidance.kind is FieldKind.NUMBER
        assert (guidance.default, guidance.minimum, guidance.maximum) == (7.5, 1, 20)
        assert guidance.help == (
            "Controls how closely the generated image should adhere to the prompt; "
            "higher values make the image more aligned with the prompt"
        )
    assert [e.slug for e in ENDPOINTS if e.field("negative_prompt")] == [
        "sdxl/generative",
        "sdxl/pony",
        "sd/1/generative",
    ]
    for slug in ("sdxl/generative", "sdxl/pony", "sd/1/generative"):
        negative = get_endpoint(slug).field("negative_prompt")
        assert negative is not None
        assert negative.multiline and not negative.required and negative.max_length == 2000
    assert [e.slug for e in ENDPOINTS if e.field("raw")] == ["flux/1.1/pro-ultra"]
    raw = get_endpoint("flux/1.1/pro-ultra").field("raw")
    assert raw is not None
    assert (raw.kind, raw.default, raw.help) == (
        FieldKind.BOOLEAN,
        False,
        "Less processed and natural-looking",
    )


def test_image_fields() -> None:
    found = {
        e.slug: [(f.name, f.help) for f in e.image_fields] for e in ENDPOINTS if e.image_fields
    }
    assert found == {
        "utils/clarify": [("image", "Image to restore (LINK)")],
        "utils/facerestore": [("image", "Face to restore (LINK)")],
        "utils/faceswap": [("source", "Image to swap (LINK)"), ("target", "Main image (LINK)")],
        "utils/prompt-extract": [("image", "Image (LINK)")],
        "utils/remove-background": [("image", "Image (LINK)")],
        "utils/upscale": [("image", "Image (LINK)")],
    }
    for endpoint in utility_endpoints():
        for field in endpoint.image_fields:
            assert field.required and field.max_length == 2048


def test_descriptions_are_verbatim() -> None:
    assert get_endpoint("flux/ghibsky").description == (
        "An anime and illustration-style image generation model inspired by Studio Ghibli's "
        "distinctive art style. It excels at creating whimsical, fantastical scenes with a "
        "characteristic Ghibli-esque charm."
    )
    assert get_endpoint("sdxl/emoji").description == (
        "Create Custom Emoji Masterpieces: Inspired by Apple's Iconic Style"
    )
    assert get_endpoint("utils/clarify").description == (
        "Image Restoration Algorithm for Blured/Bad images."
    )
    assert get_endpoint("internal/ping").description == "Ping the API & checkpoints."
    assert get_endpoint("job/{id}").description == "Retrieve a job using its identifier."
    for endpoint in ENDPOINTS:
        assert endpoint.description == endpoint.description.strip()
        assert "  " not in endpoint.description and "\n" not in endpoint.description


def test_endpoint_helpers() -> None:
    ultra = get_endpoint("flux/1.1/pro-ultra")
    assert ultra.slug == "flux/1.1/pro-ultra"
    assert ultra.field_names == ("prompt", "canvas", "raw", "seed")
    assert ultra.field("nope") is None
    assert ultra.image_fields == ()
    assert get_endpoint("utils/faceswap").field_names == ("source", "target")


# --- sizes ---------------------------------------------------------------------------------------


def test_canvas_size_table() -> None:
    assert CANVAS_SIZES == {
        "Square": (1024, 1024),
        "Portrait": (768, 1344),
        "Landscape": (1344, 768),
        "Wide Landscape": (1536, 640),
    }


@pytest.mark.parametrize(
    ("slug", "canvas", "size"),
    [
        ("flux/1.1/pro-ultra", "Square", (2048, 2048)),
        ("flux/1.1/pro-ultra", "Portrait", (1536, 2688)),
        ("flux/1.1/pro-ultra", "Landscape", (2688, 1536)),
        ("flux/1.1/pro-ultra", "Wide Landscape", (3072, 1280)),
        ("flux/1.1/pro", "Square", (1024, 1024)),
        ("flux/1.1/pro", "Portrait", (768, 1344)),
        ("flux/1.1/pro", "Landscape", (1344, 768)),
        ("flux/1.1/pro", "Wide Landscape", (1536, 640)),
        ("sd/1/generative", "Square", (512, 512)),
        ("sd/1/generative", "Portrait", (384, 672)),
        ("sd/1/generative", "Landscape", (672, 384)),
        ("sd/1/generative", None, (512, 512)),
        ("flux/1.1/pro-ultra", None, (2048, 2048)),
        ("sdxl/generative", None, (1024, 1024)),
        ("sdxl/generative", "Portrait", (768, 1344)),
        ("flux/schnell", None, (1024, 1024)),
        ("flux/schnell", "Portrait", (1024, 1024)),
        ("sdxl/emoji", None, (1024, 1024)),
        ("sdxl/emoji", "Landscape", (1024, 1024)),
    ],
)
def test_size_for(slug: str, canvas: str | None, size: tuple[int, int]) -> None:
    assert get_endpoint(slug).size_for(canvas) == size


def test_size_for_every_canvas_of_every_endpoint() -> None:
    scales = {"flux/1.1/pro-ultra": 2, "sd/1/generative": 0.5}
    for endpoint in ENDPOINTS:
        scale = scales.get(endpoint.slug, 1)
        assert endpoint.canvas_scale == scale
        for canvas in endpoint.canvases:
            width, height = CANVAS_SIZES[canvas]
            got = endpoint.size_for(canvas)
            assert got == (int(width * scale), int(height * scale)), (endpoint.path, canvas)
            assert all(isinstance(n, int) for n in got)


@pytest.mark.parametrize(
    ("slug", "canvas"),
    [("flux/dev", "Wide Landscape"), ("flux/dev", "Huge"), ("sd/1/generative", "square")],
)
def test_size_for_refuses_a_canvas_the_endpoint_lacks(slug: str, canvas: str) -> None:
    with pytest.raises(ValueError, match="no canvas"):
        get_endpoint(slug).size_for(canvas)


# --- lookup --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["/v1/flux/dev", "/flux/dev", "flux/dev", "v1/flux/dev", "/v1/flux/dev/", "flux/dev/"],
)
def test_get_endpoint_spellings(spelling: str) -> None:
    assert get_endpoint(spelling).path == "/v1/flux/dev"


def test_get_endpoint_for_every_entry() -> None:
    for endpoint in ENDPOINTS:
        assert get_endpoint(endpoint.path) is endpoint
        assert get_endpoint(endpoint.slug) is endpoint
        assert get_endpoint("/" + endpoint.slug) is endpoint
    assert get_endpoint("/v1/job/{id}").family is Family.JOB
    assert get_endpoint("flux/1.1/pro-ultra").canvas_scale == 2.0


@pytest.mark.parametrize(
    "spelling",
    [
        "",
        "/",
        "/v1",
        "/v1/",
        "flux",
        "flux/nope",
        "FLUX/DEV",
        "/v2/flux/dev",
        "v1/v1/flux/dev",
        "/v1/job/{id}/cancel",  # our extension is not part of the reference's catalog
        "/v1/job/abc123",
        "sdxl/generative?x=1",
    ],
)
def test_get_endpoint_unknown(spelling: str) -> None:
    with pytest.raises(UnknownEndpoint):
        get_endpoint(spelling)


def test_unknown_endpoint_is_a_key_error() -> None:
    assert issubclass(UnknownEndpoint, KeyError)
    with pytest.raises(KeyError):
        get_endpoint("nope")
    with pytest.raises(UnknownEndpoint):
        get_endpoint(None)  # type: ignore[arg-type]


def test_job_cancel_extension() -> None:
    assert JOB_CANCEL.path == "/v1/job/{id}/cancel"
    assert (JOB_CANCEL.method, JOB_CANCEL.family, JOB_CANCEL.output) == (
        "POST",
        Family.JOB,
        Output.JSON,
    )
    assert JOB_CANCEL.fields == ()
    assert JOB_CANCEL not in ENDPOINTS


# --- guards against a bad new entry -----------------------------------------------------------


def test_entries_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ENDPOINTS[0].path = "/v1/x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ENDPOINTS[0].fields[0].required = False  # type: ignore[misc]


def test_bad_entries_are_refused() -> None:
    prompt = Field("prompt", FieldKind.STRING, "Prompt", "p", required=True)
    with pytest.raises(ValueError, match="/v1/"):
        Endpoint("/flux/x", "POST", Family.FLUX, "X", "x", (prompt,))
    with pytest.raises(ValueError, match="method"):
        Endpoint("/v1/flux/x", "PUT", Family.FLUX, "X", "x", (prompt,))
    with pytest.raises(ValueError, match="Duplicate"):
        Endpoint("/v1/flux/x", "POST", Family.FLUX, "X", "x", (prompt, prompt))
    with pytest.raises(ValueError, match="placeholders"):
        Endpoint("/v1/job/{id}", "GET", Family.JOB, "X", "x")
    with pytest.raises(ValueError, match="body fields"):
        Endpoint("/v1/internal/x", "GET", Family.INTERNAL, "X", "x", (prompt,))
    with pytest.raises(ValueError, match="size"):
        Endpoint(
            "/v1/flux/x",
            "POST",
            Family.FLUX,
            "X",
            "x",
            (Field("canvas", FieldKind.STRING, "C", "c", required=True, choices=("Huge",)),),
        )
    with pytest.raises(ValueError, match="choices"):
        Field("style", FieldKind.STRING, "S", "s", choices=("a", "b"), default="c")
    with pytest.raises(ValueError, match="default"):
        Field("seed", FieldKind.INTEGER, "S", "s", required=True, default=1)


@pytest.mark.process
def test_catalog_does_not_import_django() -> None:
    code = (
        "import sys, openjourney.catalog, openjourney.openapi; "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
