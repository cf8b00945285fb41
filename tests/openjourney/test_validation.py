"""validate(): cleaning, defaults, every kind of error, and a fuzz that must never raise."""

from __future__ import annotations

import json
import math
import random

import pytest

from openjourney.catalog import (
    ENDPOINTS,
    Endpoint,
    FieldKind,
    ValidationResult,
    get_endpoint,
    validate,
)

URL = "https://cdn.example.com/in/face.png"
REQUIRED = ["This field is required."]


def check(slug: str, body: object) -> ValidationResult:
    return validate(get_endpoint(slug), body)


def minimal_body(endpoint: Endpoint) -> dict[str, object]:
    """The smallest valid body: every required field with a plausible value."""
    body: dict[str, object] = {}
    for field in endpoint.fields:
        if not field.required:
            continue
        if field.choices:
            body[field.name] = field.choices[0]
        elif field.kind is FieldKind.IMAGE:
            body[field.name] = URL
        else:
            body[field.name] = "a red fox in the snow"
    return body


# --- valid bodies and defaults ------------------------------------------------------------------


def test_minimal_body_of_every_post_endpoint_is_valid() -> None:
    for endpoint in ENDPOINTS:
        result = validate(endpoint, minimal_body(endpoint))
        assert result.ok, (endpoint.path, result.errors)
        assert result.errors == {}


def test_get_endpoints_accept_an_empty_object() -> None:
    for slug in ("job/{id}", "internal/license", "internal/ping"):
        assert check(slug, {}).ok


def test_full_body_is_kept() -> None:
    body = {"prompt": "a fox", "canvas": "Wide Landscape", "raw": True, "seed": 7}
    result = check("flux/1.1/pro-ultra", body)
    assert result.ok
    assert result.data == body
    assert body == {"prompt": "a fox", "canvas": "Wide Landscape", "raw": True, "seed": 7}


def test_defaults_are_filled_in() -> None:
    assert check("flux/1.1/pro-ultra", {"prompt": "x", "canvas": "Square"}).data == {
        "prompt": "x",
        "canvas": "Square",
        "raw": False,
    }
    assert check("sdxl/generative", {"prompt": "x"}).data == {
        "prompt": "x",
        "model": "v1",
        "canvas": "Square",
        "guidance": 7.5,
    }
    assert check("sdxl/pony", {"prompt": "x", "canvas": "Portrait"}).data == {
        "prompt": "x",
        "model": "pony",
        "canvas": "Portrait",
        "scheduler": "DPM++ 2M SDE Karras",
    }
    assert check("re-craft/generative", {"prompt": "x", "canvas": "Square"}).data == {
        "prompt": "x",
        "model": "v3",
        "canvas": "Square",
        "style": "realistic_image",
    }
    assert check("re-craft/svg", {"prompt": "x", "canvas": "Square"}).data["style"] == "line_art"
    assert check("utils/clarify", {"image": URL}).data == {"image": URL, "type": "Image Denoising"}
    assert check("utils/upscale", {"image": URL}).data == {"image": URL, "model": "Real-ESRGAN"}
    assert check("sd/1/generative", {"prompt": "x", "canvas": "Square"}).data["guidance"] == 7.5


def test_seed_has_no_default() -> None:
    result = check("flux/dev", {"prompt": "x", "canvas": "Square"})
    assert result.ok
    assert "seed" not in result.data


def test_given_values_win_over_defaults() -> None:
    result = check(
        "sdxl/generative",
        {"prompt": "x", "model": "lightning", "canvas": "Landscape", "guidance": 3},
    )
    assert result.data == {
        "prompt": "x",
        "model": "lightning",
        "canvas": "Landscape",
        "guidance": 3.0,
    }


def test_null_means_not_given_for_optional_fields() -> None:
    result = check(
        "sdxl/generative",
        {"prompt": "x", "model": None, "canvas": None, "negative_prompt": None, "seed": None},
    )
    assert result.ok, result.errors
    assert result.data == {"prompt": "x", "model": "v1", "canvas": "Square", "guidance": 7.5}


def test_null_for_a_required_field_is_missing() -> None:
    assert check("flux/dev", {"prompt": None, "canvas": "Square"}).errors == {"prompt": REQUIRED}


# --- numbers ------------------------------------------------------------------------------------


def test_integral_float_seed_is_accepted_as_int() -> None:
    result = check("flux/dev", {"prompt": "x", "canvas": "Square", "seed": 42.0})
    assert result.ok
    assert result.data["seed"] == 42
    assert type(result.data["seed"]) is int


def test_seed_bounds() -> None:
    def seed_errors(seed: object) -> list[str] | None:
        return check("flux/dev", {"prompt": "x", "canvas": "Square", "seed": seed}).errors.get(
            "seed"
        )

    assert seed_errors(0) is None
    assert seed_errors(2**32 - 1) is None
    assert seed_errors(-1) == ["Must be at least 0."]
    assert seed_errors(2**32) == ["Must be at most 4294967295."]
    assert seed_errors(10**400) == ["Must be at most 4294967295."]
    assert seed_errors(-(10**400)) == ["Must be at least 0."]
    assert seed_errors(1e300) == ["Must be at most 4294967295."]
    assert seed_errors(-0.0) is None


@pytest.mark.parametrize("seed", [True, False, "42", 4.5, [42], {"v": 42}, 1e-9])
def test_seed_wrong_type(seed: object) -> None:
    result = check("flux/dev", {"prompt": "x", "canvas": "Square", "seed": seed})
    assert result.errors == {"seed": ["Expected an integer."]}


@pytest.mark.parametrize("seed", [math.nan, math.inf, -math.inf])
def test_seed_not_finite(seed: float) -> None:
    result = check("flux/dev", {"prompt": "x", "canvas": "Square", "seed": seed})
    assert result.errors == {"seed": ["Expected a finite number."]}


def test_guidance() -> None:
    def guidance(value: object) -> ValidationResult:
        return check("sd/1/generative", {"prompt": "x", "canvas": "Square", "guidance": value})

    assert guidance(1).data["guidance"] == 1.0
    assert type(guidance(12).data["guidance"]) is float
    assert guidance(20.0).ok
    assert guidance(0.5).errors == {"guidance": ["Must be at least 1."]}
    assert guidance(20.01).errors == {"guidance": ["Must be at most 20."]}
    assert guidance(10**400).errors == {"guidance": ["Must be at most 20."]}
    assert guidance(True).errors == {"guidance": ["Expected a number."]}
    assert guidance("7.5").errors == {"guidance": ["Expected a number."]}
    assert guidance(math.nan).errors == {"guidance": ["Expected a finite number."]}
    assert guidance(math.inf).errors == {"guidance": ["Expected a finite number."]}


def test_boolean_field() -> None:
    def raw(value: object) -> ValidationResult:
        return check("flux/1.1/pro-ultra", {"prompt": "x", "canvas": "Square", "raw": value})

    assert raw(True).data["raw"] is True
    assert raw(False).data["raw"] is False
    for bad in (1, 0, "true", "false", 1.0, [], {}):
        assert raw(bad).errors == {"raw": ["Expected a boolean (true or false)."]}, bad


# --- strings and choices ------------------------------------------------------------------------


def test_wrong_type_for_strings() -> None:
    result = check("flux/dev", {"prompt": 5, "canvas": ["Square"]})
    assert result.errors == {"prompt": ["Expected a string."], "canvas": ["Expected a string."]}
    assert check("utils/facerestore", {"image": {"url": URL}}).errors == {
        "image": ["Expected a URL string."]
    }


def test_not_among_the_choices() -> None:
    assert check("flux/dev", {"prompt": "x", "canvas": "Huge"}).errors == {
        "canvas": ["'Huge' is not one of: Square, Portrait, Landscape."]
    }
    # Spelled exactly: no case folding, no trimming.
    assert not check("flux/dev", {"prompt": "x", "canvas": "square"}).ok
    assert not check("flux/dev", {"prompt": "x", "canvas": "Square "}).ok
    # Wide Landscape is only for the two 1.1 models.
    assert not check("flux/dev", {"prompt": "x", "canvas": "Wide Landscape"}).ok
    assert check("flux/1.1/pro", {"prompt": "x", "canvas": "Wide Landscape"}).ok
    assert check("utils/upscale", {"image": URL, "model": "ESRGAN"}).errors == {
        "model": [
            "'ESRGAN' is not one of: Openjourney Redefine, EpicRealism Natural, Real-ESRGAN, "
            "Animagine Redefine."
        ]
    }
    assert check("sdxl/pony", {"prompt": "x", "canvas": "Square", "model": "ponyai v6"}).ok
    assert check("re-craft/svg", {"prompt": "x", "canvas": "Square", "style": "vector"}).errors[
        "style"
    ] == ["'vector' is not one of: engraving, line_art, line_circuit, linocut."]


def test_an_empty_string_is_a_value_not_a_missing_choice() -> None:
    assert check("sdxl/pony", {"prompt": "x", "canvas": "Square", "scheduler": ""}).errors == {
        "scheduler": [
            "'' is not one of: DPM++ 2M SDE Karras, UniPC, Heun, DDIM, DPM2 a, DPM2 a Karras, "
            "DPM SDE, DDPM, DPM++ SDE, DPM++ SDE Karras, LMS, LMS Karras, Euler a, Euler, PNDM, "
            "DPM2, DPM2 Karras, DEIS, DPM++ 2M, DPM++ 2M Karras."
        ]
    }


def test_a_long_wrong_choice_is_shortened_in_the_message() -> None:
    message = check("flux/dev", {"prompt": "x", "canvas": "x" * 5000}).errors["canvas"][0]
    assert len(message) < 200
    assert message.endswith("is not one of: Square, Portrait, Landscape.")


@pytest.mark.parametrize("prompt", ["", " ", "\n\t  "])
def test_blank_prompt(prompt: str) -> None:
    result = check("flux/schnell", {"prompt": prompt})
    assert result.errors == {"prompt": ["This field may not be blank."]}


def test_prompt_is_kept_as_given() -> None:
    assert check("flux/schnell", {"prompt": "  a fox \n"}).data == {"prompt": "  a fox \n"}
    assert check("flux/schnell", {"prompt": "狐 🦊 é"}).ok


def test_blank_negative_prompt_is_fine() -> None:
    assert check("sdxl/pony", {"prompt": "x", "canvas": "Square", "negative_prompt": ""}).ok


def test_too_long() -> None:
    assert check("flux/schnell", {"prompt": "x" * 2000}).ok
    assert check("flux/schnell", {"prompt": "x" * 2001}).errors == {
        "prompt": ["Ensure this value has at most 2000 characters (it has 2001)."]
    }
    result = check("sdxl/pony", {"prompt": "x", "canvas": "Square", "negative_prompt": "n" * 2500})
    assert result.errors == {
        "negative_prompt": ["Ensure this value has at most 2000 characters (it has 2500)."]
    }


# --- image URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        URL,
        "http://example.com/a.png",
        "HTTPS://Example.COM/a.png?size=large&x=1#frag",
        "https://example.com:8443/a.png",
        "http://127.0.0.1:8000/a.png",  # address safety is checked where the URL is fetched
        "https://[2001:db8::1]/a.png",
        "https://xn--bcher-kva.example/a.png",
    ],
)
def test_good_image_urls(url: str) -> None:
    assert check("utils/remove-background", {"image": url}).ok


@pytest.mark.parametrize(
    "url",
    [
        "example.com/a.png",
        "/images/a.png",
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "https://",
        "http:///a.png",
        "https:/example.com/a.png",
        "https://exa mple.com/a.png",
        "https://example.com/a b.png",
        "https://example.com/\x00.png",
        "http://[::1/a.png",
        "http://example.com:99999/a.png",
        "http://example.com:port/a.png",
    ],
)
def test_bad_image_urls(url: str) -> None:
    assert check("utils/remove-background", {"image": url}).errors == {
        "image": ["Enter a valid http or https URL."]
    }


def test_image_url_length_and_blank() -> None:
    long_url = "https://example.com/" + "a" * 2028
    assert len(long_url) == 2048
    assert check("utils/upscale", {"image": long_url}).ok
    assert check("utils/upscale", {"image": long_url + "a"}).errors == {
        "image": ["Ensure this value has at most 2048 characters (it has 2049)."]
    }
    assert check("utils/upscale", {"image": " "}).errors == {
        "image": ["This field may not be blank."]
    }


def test_faceswap_checks_both_images() -> None:
    assert check("utils/faceswap", {"source": URL, "target": URL}).ok
    assert check("utils/faceswap", {"source": "nope", "target": 3}).errors == {
        "source": ["Enter a valid http or https URL."],
        "target": ["Expected a URL string."],
    }


# --- missing, unknown, all at once ------------------------------------------------------------


def test_missing_required_fields() -> None:
    assert check("flux/dev", {}).errors == {"prompt": REQUIRED, "canvas": REQUIRED}
    assert check("utils/faceswap", {}).errors == {"source": REQUIRED, "target": REQUIRED}
    # The official client's README example: no canvas for SD 1, which the reference requires.
    assert check("sd/1/generative", {"prompt": "x"}).errors == {"canvas": REQUIRED}
    # ...while SDXL Generative's canvas may be left out.
    assert check("sdxl/generative", {"prompt": "x"}).ok


def test_unknown_fields() -> None:
    result = check("flux/dev", {"prompt": "x", "canvas": "Square", "steps": 4, "Prompt": "y"})
    assert result.errors == {"steps": ["Unknown field."], "Prompt": ["Unknown field."]}
    assert result.data == {"prompt": "x", "canvas": "Square"}
    # A field of another endpoint is unknown here.
    assert check("flux/schnell", {"prompt": "x", "seed": 1}).errors == {"seed": ["Unknown field."]}
    assert check("internal/ping", {"verbose": True}).errors == {"verbose": ["Unknown field."]}


def test_non_string_keys_are_unknown_fields() -> None:
    # Not reachable from JSON, but a Python caller can pass them.
    result = check("flux/schnell", {"prompt": "x", 1: "y", None: 2})
    assert result.errors == {"1": ["Unknown field."], "None": ["Unknown field."]}


def test_all_errors_are_collected() -> None:
    result = check(
        "sdxl/generative",
        {
            "model": "v9",
            "canvas": 3,
            "negative_prompt": "n" * 2001,
            "guidance": 0,
            "seed": -5,
            "steps": 30,
        },
    )
    assert result.errors == {
        "prompt": REQUIRED,
        "model": ["'v9' is not one of: v1, lightning."],
        "canvas": ["Expected a string."],
        "negative_prompt": ["Ensure this value has at most 2000 characters (it has 2001)."],
        "guidance": ["Must be at least 1."],
        "seed": ["Must be at least 0."],
        "steps": ["Unknown field."],
    }
    assert not result.ok
    assert result.data == {}


def test_too_long_and_not_a_choice_are_both_reported() -> None:
    errors = check("flux/dev", {"prompt": "x", "canvas": "C" * 3000}).errors
    assert len(errors["canvas"]) == 1  # no max_length on canvas: just the choice error
    errors = check("flux/schnell", {"prompt": " " * 2001}).errors
    assert errors == {"prompt": ["This field may not be blank."]}


@pytest.mark.parametrize("body", [None, [], [{"prompt": "x"}], "prompt", 42, 4.2, True, False])
def test_body_must_be_an_object(body: object) -> None:
    result = check("flux/schnell", body)
    assert result.errors == {"__all__": ["Expected a JSON object."]}
    assert result.data == {}
    assert not result.ok


def test_validation_result_ok() -> None:
    assert ValidationResult().ok
    assert not ValidationResult(errors={"x": ["bad"]}).ok


def test_straight_from_json() -> None:
    body = json.loads('{"prompt": "a fox", "canvas": "Portrait", "seed": 1e3}')
    result = check("flux/pro", body)
    assert result.data == {"prompt": "a fox", "canvas": "Portrait", "seed": 1000}


# --- fuzz ---------------------------------------------------------------------------------------

_SCALARS: list[object] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    42,
    2**32 - 1,
    2**32,
    2**63,
    10**400,
    -(10**400),
    0.0,
    -0.0,
    0.5,
    42.0,
    1e308,
    -1e308,
    5e-324,
    math.nan,
    math.inf,
    -math.inf,
    "",
    " ",
    "Square",
    "Wide Landscape",
    "v3",
    "pony",
    "Real-ESRGAN",
    URL,
    "http://",
    "https://[::1",
    "http://h:99999/",
    "\x00",
    "\ud800",  # a lone surrogate: json.loads gives these back for "\\ud800"
    "🦊" * 3000,
    "x" * 2049,
]


def _random_string(rng: random.Random) -> str:
    alphabet = "abc /:.?#[]@%\\\"'\n\t\x00é狐🦊\u202e\ufeff\ud800"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))


def _random_value(rng: random.Random, depth: int = 0) -> object:
    roll = rng.random()
    if roll < 0.45 or depth >= 3:
        return rng.choice(_SCALARS)
    if roll < 0.6:
        return _random_string(rng)
    if roll < 0.7:
        return rng.randint(-(2**70), 2**70)
    if roll < 0.8:
        return rng.uniform(-1e6, 1e6)
    if roll < 0.9:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_random_string(rng): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _random_body(rng: random.Random, endpoint: Endpoint) -> object:
    if rng.random() < 0.1:
        return _random_value(rng)
    body: dict[str, object] = minimal_body(endpoint) if rng.random() < 0.5 else {}
    names = [*endpoint.field_names, "seed", "canvas", "extra", "__all__", ""]
    for _ in range(rng.randint(0, 6)):
        key = rng.choice(names) if rng.random() < 0.8 else _random_string(rng)
        body[key] = _random_value(rng)
    return body


def test_fuzz_never_raises() -> None:
    rng = random.Random(20241214)
    for endpoint in ENDPOINTS:
        for _ in range(300):
            body = _random_body(rng, endpoint)
            result = validate(endpoint, body)
            assert isinstance(result, ValidationResult)
            assert all(isinstance(k, str) for k in result.errors)
            for messages in result.errors.values():
                assert messages and all(isinstance(m, str) and m for m in messages)
            assert set(result.data) <= set(endpoint.field_names)
            assert not set(result.data) & set(result.errors)
            if result.ok:
                assert all(f.name in result.data for f in endpoint.fields if f.required)
                # Cleaned data is a fixed point: validating it again changes nothing.
                again = validate(endpoint, result.data)
                assert again.ok and again.data == result.data


def test_fuzz_through_json() -> None:
    rng = random.Random(7)
    for endpoint in ENDPOINTS:
        for _ in range(50):
            text = json.dumps(_random_body(rng, endpoint))
            validate(endpoint, json.loads(text))


def test_deeply_nested_value() -> None:
    deep = json.loads("[" * 500 + "]" * 500)
    assert check("flux/schnell", {"prompt": deep}).errors == {"prompt": ["Expected a string."]}
