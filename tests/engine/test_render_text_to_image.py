"""Tests of the procedural text-to-image renderer (engine.render.text_to_image).

Plain pytest on small canvases; every property is measured on pixels, so each test can fail.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.render.png import encode_png
from engine.render.prompt import COLOUR_WORDS, MOOD_WORDS, SUBJECT_WORDS, analyse_prompt
from engine.render.text_to_image import (
    ENDPOINTS,
    RECRAFT_STYLES,
    SCHEDULERS,
    render_image,
)

ROOT = Path(__file__).resolve().parents[2]
LANDSCAPE = "mountains at sunset over a lake"
SIZES = [
    (1024, 1024),
    (768, 1344),
    (1344, 768),
    (1536, 640),
    (2048, 2048),
    (1536, 2688),
    (2688, 1536),
    (3072, 1280),
    (512, 512),
    (384, 672),
    (672, 384),
]


def render(
    prompt: str = LANDSCAPE,
    endpoint: str = "flux/dev",
    size: tuple[int, int] = (128, 128),
    seed: int = 11,
    **params: object,
) -> np.ndarray:
    image = render_image(endpoint, {"prompt": prompt, "seed": seed, **params}, size)
    return np.asarray(image).astype(np.float32)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of the colour channels, 0..255."""
    return float(np.abs(a[..., :3] - b[..., :3]).mean())


def luma(a: np.ndarray) -> np.ndarray:
    return a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114


def chroma(a: np.ndarray) -> float:
    return float((a[..., :3].max(-1) - a[..., :3].min(-1)).mean())


def high_freq(a: np.ndarray) -> float:
    return float(np.abs(cv2.Laplacian(luma(a), cv2.CV_32F)).mean())


def redness(a: np.ndarray) -> float:
    return float((a[..., 0] - (a[..., 1] + a[..., 2]) / 2).mean())


# --------------------------------------------------------------------------- API basics


def test_endpoint_list_matches_the_reference() -> None:
    assert len(ENDPOINTS) == 29
    assert len(set(ENDPOINTS)) == 29
    assert len(RECRAFT_STYLES) == 26
    assert len(SCHEDULERS) == 20
    assert "re-craft/svg" not in ENDPOINTS


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_output_has_exactly_the_requested_size(size: tuple[int, int]) -> None:
    image = render_image("flux/1.1/pro-ultra", {"prompt": LANDSCAPE, "seed": 1}, size)
    assert image.size == size
    assert image.mode == "RGB"


@pytest.mark.parametrize("size", [(1024, 1024), (96, 160)])
def test_emoji_is_rgba_with_transparent_corners(size: tuple[int, int]) -> None:
    image = render_image("sdxl/emoji", {"prompt": "a laughing face", "seed": 3}, size)
    assert image.mode == "RGBA"
    assert image.size == size
    alpha = np.asarray(image)[..., 3]
    w, h = size
    for y, x in ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)):
        assert alpha[y, x] == 0
    assert alpha[h // 2, w // 2] == 255
    assert 0.25 < (alpha > 128).mean() < 0.8


@pytest.mark.parametrize("prompt", ["a heart", "a gold star", "a sleepy cat", "an angry face"])
def test_emoji_objects_and_expressions_differ(prompt: str) -> None:
    base = render("a happy face", "sdxl/emoji", (96, 96))
    other = render(prompt, "sdxl/emoji", (96, 96))
    assert other.shape[-1] == 4
    assert mad(base, other) > 3


def test_every_endpoint_renders_rgb_except_emoji() -> None:
    for endpoint in ENDPOINTS:
        image = render_image(endpoint, {"prompt": "a fox", "seed": 2}, (48, 40))
        assert image.size == (48, 40)
        assert image.mode == ("RGBA" if endpoint == "sdxl/emoji" else "RGB")


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("flux/dev", {"prompt": LANDSCAPE, "seed": 42}),
        ("flux/cinema", {"prompt": "a city skyline at night", "seed": 7}),
        (
            "re-craft/generative",
            {"prompt": "a cat", "seed": 9, "style": "digital_illustration/watercolor"},
        ),
        (
            "sdxl/pony",
            {"prompt": "a knight", "seed": 5, "scheduler": "Euler a", "negative_prompt": "red"},
        ),
        ("sdxl/emoji", {"prompt": "a cool face", "seed": 0}),
    ],
)
def test_same_request_gives_byte_identical_png(endpoint: str, params: dict) -> None:
    first = encode_png(render_image(endpoint, dict(params), (160, 96)))
    second = encode_png(render_image(endpoint, dict(params), (160, 96)))
    assert first == second


@pytest.mark.process
def test_output_does_not_depend_on_python_hash_seed() -> None:
    code = (
        "import hashlib, sys\n"
        "from engine.render.png import encode_png\n"
        "from engine.render.text_to_image import render_image\n"
        "img = render_image('sdxl/pony', {'prompt': 'red mountains', 'seed': 3, "
        "'scheduler': 'DDIM', 'model': 'ponyai v6'}, (64, 48))\n"
        "sys.stdout.write(hashlib.sha256(encode_png(img)).hexdigest())\n"
    )
    params = {"prompt": "red mountains", "seed": 3, "scheduler": "DDIM", "model": "ponyai v6"}
    here = hashlib.sha256(encode_png(render_image("sdxl/pony", params, (64, 48)))).hexdigest()
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout == here


def test_params_are_not_mutated() -> None:
    params = {"prompt": "a lake", "seed": 4, "style": "realistic_image/hdr", "canvas": "Square"}
    snapshot = dict(params)
    render_image("re-craft/generative", params, (32, 32))
    assert params == snapshot


@pytest.mark.parametrize(
    "prompt", [LANDSCAPE, "a cozy cabin", "portrait of a woman", "a city at night"]
)
def test_another_seed_gives_a_visibly_different_image(prompt: str) -> None:
    assert mad(render(prompt, seed=1), render(prompt, seed=2)) > 20


def test_missing_seed_is_seed_zero() -> None:
    a = render_image("flux/schnell", {"prompt": "a lake"}, (32, 32))
    b = render_image("flux/schnell", {"prompt": "a lake", "seed": 0}, (32, 32))
    assert encode_png(a) == encode_png(b)


# --------------------------------------------------------------------------- prompt analysis


def test_analyse_prompt_vocabularies() -> None:
    traits = analyse_prompt("A dreamy DARK BLUE lake under the mountains, calm", "gold, people")
    assert [name for name, _ in traits.colours] == ["dark blue"]
    assert traits.colours[0][1] != COLOUR_WORDS["blue"]  # the modifier darkened it
    assert "water" in traits.subjects and "mountain" in traits.subjects
    assert "dreamy" in traits.moods and "calm" in traits.moods
    assert "dark" not in traits.moods  # "dark" modified the colour here
    assert [name for name, _ in traits.negative_colours] == ["gold"]
    assert traits.negative_subjects == ("figure",)
    assert {"red", "teal", "black", "white", "purple"} <= set(COLOUR_WORDS)
    assert SUBJECT_WORDS["sunset"] == "sun" and MOOD_WORDS["dramatic"] == "dramatic"


def test_negative_subject_is_removed_from_traits() -> None:
    assert "sun" not in analyse_prompt("mountains at sunset", "sun").subjects
    assert analyse_prompt("mountains at sunset", "sun").scenes == ("sunset",)


# --------------------------------------------------------------------------- prompt steering


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_colour_words_steer_the_palette(seed: int) -> None:
    red = render("a red landscape", seed=seed)
    blue = render("a blue landscape", seed=seed)
    assert redness(red) > redness(blue) + 60
    green = render("a green abstract painting", seed=seed)
    purple = render("a purple abstract painting", seed=seed)
    assert green[..., 1].mean() > purple[..., 1].mean() + 25
    assert purple[..., 2].mean() > green[..., 2].mean() + 10


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sun_gives_a_disc_of_light_and_negative_sun_removes_it(seed: int) -> None:
    def brightest(a: np.ndarray) -> float:
        return float(cv2.GaussianBlur(luma(a), (0, 0), 2)[: int(a.shape[0] * 0.7)].max())

    with_sun = render("mountains at sunset", size=(192, 192), seed=seed)
    no_sun = render("mountains at sunset", size=(192, 192), seed=seed, negative_prompt="sun")
    assert brightest(with_sun) > brightest(no_sun) + 25


def _crest(a: np.ndarray) -> tuple[float, np.ndarray]:
    """Share of columns with a sharp top edge, and the row of that edge in each of them."""
    lum = cv2.GaussianBlur(luma(a), (0, 0), 1.0)
    sharp = np.abs(np.diff(lum, axis=0)) > 12
    has = sharp.any(axis=0)
    return float(has.mean()), np.argmax(sharp, axis=0)[has]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mountains_make_a_jagged_ridge_silhouette(seed: int) -> None:
    coverage, rows = _crest(render("mountains at dawn", size=(160, 160), seed=seed))
    assert coverage > 0.97  # a silhouette edge runs across the whole width
    assert np.ptp(rows) > 16  # its crest line rises and falls (peaks)
    assert (np.abs(np.diff(rows)) <= 3).mean() > 0.8  # as one continuous line
    sea_coverage, _ = _crest(render("the sea at dawn", size=(160, 160), seed=seed))
    assert sea_coverage < 0.9


def _edge_anisotropy(a: np.ndarray, top: float = 0.0) -> float:
    lum = luma(a)[int(a.shape[0] * top) :]
    return float(np.abs(np.diff(lum, axis=1)).mean() / np.abs(np.diff(lum, axis=0)).mean())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_water_is_horizontal_bands_and_forest_vertical_forms(seed: int) -> None:
    ocean = render("the ocean", size=(160, 160), seed=seed)
    forest = render("a forest", size=(160, 160), seed=seed)
    assert _edge_anisotropy(ocean, top=0.7) < 0.6
    assert _edge_anisotropy(forest) > 1.5


def _long_vertical_edges(a: np.ndarray, run: int) -> int:
    edges = np.abs(np.diff(luma(a), axis=1)) > 20
    count = 0
    for column in edges.T:
        best = length = 0
        for on in column:
            length = length + 1 if on else 0
            best = max(best, length)
        count += best >= run
    return count


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_city_draws_rectangles(seed: int) -> None:
    city = render("a city skyline", size=(192, 192), seed=seed)
    hills = render("green hills and mountains", size=(192, 192), seed=seed)
    assert _long_vertical_edges(city, 10) > 20
    assert _long_vertical_edges(hills, 10) < 10


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_portrait_puts_a_figure_in_the_centre(seed: int) -> None:
    a = render("portrait of a woman", size=(160, 160), seed=seed)
    h, w = a.shape[:2]
    band = a[int(h * 0.3) : int(h * 0.42)]
    head = band[:, int(w * 0.44) : int(w * 0.56)].reshape(-1, 3).mean(0)
    sides = np.concatenate(
        [band[:, : int(w * 0.12)].reshape(-1, 3), band[:, int(w * 0.88) :].reshape(-1, 3)]
    ).mean(0)
    assert np.abs(head - sides).sum() > 60
    shoulders = a[int(h * 0.85) :, int(w * 0.4) : int(w * 0.6)]
    assert luma(shoulders).std() < 25  # one solid body, not background texture


def _star_points(a: np.ndarray) -> tuple[float, int]:
    top = luma(a)[: a.shape[0] // 2]
    local_max = cv2.dilate(top, np.ones((3, 3), np.uint8))
    background = cv2.medianBlur(top.astype(np.uint8), 5).astype(np.float32)
    return float(top.mean()), int(((top == local_max) & (top > background + 30)).sum())


@pytest.mark.parametrize("prompt", ["a starry night", "a galaxy in deep space"])
def test_night_and_space_have_a_dark_sky_with_points(prompt: str) -> None:
    mean, points = _star_points(render(prompt, size=(256, 256), seed=3))
    assert mean < 60
    assert points >= 40
    day_mean, day_points = _star_points(render("a sunny day over hills", size=(256, 256), seed=3))
    assert day_mean > 100 and day_points < 10


@pytest.mark.parametrize("seed", [1, 2])
def test_moods_change_brightness_contrast_saturation_and_softness(seed: int) -> None:
    def r(prompt: str) -> np.ndarray:
        return render(prompt, size=(128, 128), seed=seed)

    assert luma(r("a bright landscape")).mean() > luma(r("a dark landscape")).mean() + 40
    assert luma(r("a dramatic landscape")).std() > luma(r("a calm landscape")).std() + 5
    assert chroma(r("a happy landscape")) > chroma(r("a moody landscape")) + 20
    assert high_freq(r("a dreamy landscape")) < high_freq(r("a landscape")) * 0.95


def test_negative_colour_suppresses_that_hue() -> None:
    for seed in (1, 2):
        plain = render("red and blue abstract shapes", seed=seed)
        no_red = render("red and blue abstract shapes", seed=seed, negative_prompt="red")
        assert redness(no_red) < redness(plain) - 20


# --------------------------------------------------------------------------- endpoint looks


def test_endpoints_look_different_from_each_other() -> None:
    images = {ep: render(LANDSCAPE, ep, (64, 64)) for ep in ENDPOINTS}
    for a, b in itertools.combinations(ENDPOINTS, 2):
        assert mad(images[a], images[b]) > 8, (a, b)


def test_cinema_has_letterbox_bars_and_a_teal_orange_grade() -> None:
    a = render("a street at dusk", "flux/cinema", (160, 120))
    assert a[:6].max() == 0 and a[-6:].max() == 0
    assert a[30:90].mean() > 20
    lum = luma(a[20:100])
    dark, bright = a[20:100][lum < np.percentile(lum, 30)], a[20:100][lum > np.percentile(lum, 70)]
    assert (dark[:, 2] - dark[:, 0]).mean() > (bright[:, 2] - bright[:, 0]).mean()


def test_black_light_is_dark_with_neon_glow() -> None:
    a = render(LANDSCAPE, "flux/black-light", (128, 128))
    assert luma(a).mean() < 70
    glowing = a.max(-1) > 180
    assert glowing.mean() > 0.01
    assert chroma(a[glowing][None]) > 80  # the glow is coloured, not white


def test_hyper_is_more_saturated_and_contrasty_than_dev() -> None:
    hyper = render(LANDSCAPE, "flux/hyper", seed=3)
    dev = render(LANDSCAPE, "flux/dev", seed=3)
    assert chroma(hyper) > chroma(dev)
    assert luma(hyper).std() > luma(dev).std()


def test_sd1_is_softer_than_sd35_large() -> None:
    for seed in (1, 2):
        old = render(LANDSCAPE, "sd/1/generative", (192, 192), seed)
        new = render(LANDSCAPE, "sd/3.5/large", (192, 192), seed)
        assert high_freq(old) < high_freq(new) * 0.8


def test_pony_is_flat_cel_shading() -> None:
    pony = render("a knight in a forest", "sdxl/pony", (128, 128))
    dev = render("a knight in a forest", "flux/dev", (128, 128))

    # Cel shading: large flat areas of one tone, and ink outlines.
    def flat(a: np.ndarray) -> float:
        lum = luma(a)
        return float(
            ((np.abs(np.diff(lum, axis=0))[:, 1:] + np.abs(np.diff(lum, axis=1))[1:]) < 1.5).mean()
        )

    assert flat(pony) > flat(dev) + 0.1


def test_ghibsky_is_soft_and_painterly() -> None:
    ghib = render("clouds over a meadow", "flux/ghibsky", (160, 160), 4)
    ultra = render("clouds over a meadow", "flux/1.1/pro-ultra", (160, 160), 4)
    assert high_freq(ghib) < high_freq(ultra)
    assert luma(ghib).mean() > 110


# --------------------------------------------------------------------------- Re-Craft styles


def style(
    name: str, prompt: str = LANDSCAPE, size: tuple[int, int] = (128, 128), **kw: object
) -> np.ndarray:
    return render(prompt, "re-craft/generative", size, style=name, **kw)


def test_all_recraft_styles_differ_pairwise() -> None:
    images = {name: style(name, size=(72, 72)) for name in RECRAFT_STYLES}
    for a, b in itertools.combinations(RECRAFT_STYLES, 2):
        assert mad(images[a], images[b]) > 3, (a, b)


def test_default_style_is_realistic_image() -> None:
    assert mad(style("realistic_image"), render(LANDSCAPE, "re-craft/generative")) == 0


def test_b_and_w_is_greyscale() -> None:
    a = style("realistic_image/b_and_w")
    assert np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 1], a[..., 2])
    assert a.std() > 20


def _block_size(a: np.ndarray) -> int:
    """Largest k <= 40 such that every whole k x k block has a single colour (0 if none)."""
    h, w = a.shape[:2]
    for k in range(40, 1, -1):
        blocks = a[: h // k * k, : w // k * k].reshape(h // k, k, w // k, k, -1)
        if (blocks == blocks[:, :1, :, :1]).all():
            return k
    return 0


def test_pixel_art_is_blocky() -> None:
    for size in ((256, 256), (200, 120)):
        a = style("digital_illustration/pixel_art", size=size)
        assert _block_size(a) >= 4
    assert _block_size(style("realistic_image", size=(256, 256))) == 0


def test_voxel_is_blocks_with_bevels() -> None:
    a = style("digital_illustration/voxel", size=(256, 256))
    same_right = (a[:, 1:] == a[:, :-1]).all(-1).mean()
    assert same_right > 0.6
    assert _block_size(a) < 4  # the bevels shade each block's edges
    assert mad(a, style("digital_illustration/pixel_art", size=(256, 256))) > 8


def test_watercolor_is_soft() -> None:
    assert high_freq(style("digital_illustration/watercolor")) < 0.6 * high_freq(
        style("realistic_image")
    )


def test_engraving_color_has_line_hatching() -> None:
    engraving = style("digital_illustration/engraving_color", size=(256, 256))
    assert high_freq(engraving) > 2 * high_freq(style("realistic_image", size=(256, 256)))
    # Hatching is periodic along a diagonal: the image correlates with itself one period on.
    lum = luma(engraving) - luma(engraving).mean()
    shifts = [float((lum * np.roll(lum, k, axis=0)).mean()) for k in range(1, 8)]
    assert max(shifts[1:]) > 0


def test_hdr_has_punchier_local_contrast() -> None:
    def local(a: np.ndarray) -> float:
        lum = luma(a)
        return float(np.abs(lum - cv2.GaussianBlur(lum, (0, 0), 6)).mean())

    assert local(style("realistic_image/hdr")) > 1.3 * local(style("realistic_image"))


def test_motion_blur_is_directional() -> None:
    blurred = style("realistic_image/motion_blur", size=(160, 160))
    plain = style("realistic_image", size=(160, 160))
    assert _edge_anisotropy(blurred) < 0.6 * _edge_anisotropy(plain)


def test_kawaii_is_pastel_and_psychedelic_is_a_saturated_rainbow() -> None:
    plain = style("realistic_image")
    kawaii = style("digital_illustration/kawaii")
    assert luma(kawaii).mean() > luma(plain).mean() + 15
    psy = style("digital_illustration/psychedelic")
    assert chroma(psy) > chroma(plain)
    hsv = cv2.cvtColor(psy.astype(np.uint8), cv2.COLOR_RGB2HSV)
    hues = np.unique(hsv[..., 0][hsv[..., 1] > 100] // 15)  # twelve 30-degree bins
    assert len(hues) >= 10


def test_seamless_tiles() -> None:
    for size in ((160, 160), (200, 120)):
        a = style("digital_illustration/seamless", size=size)
        plain = style("realistic_image", size=size)
        lr = np.abs(a[:, 0] - a[:, -1]).mean()
        tb = np.abs(a[0] - a[-1]).mean()
        neighbour = np.abs(np.diff(a, axis=1)).mean()
        assert lr < 2 * neighbour + 2 and tb < 2 * neighbour + 2
        assert np.abs(plain[0] - plain[-1]).mean() > tb + 10


def test_studio_portrait_shows_a_figure_and_80s_a_grid_horizon() -> None:
    portrait = style("realistic_image/studio_portrait", prompt="a lake")
    assert mad(portrait, style("realistic_image", prompt="a lake")) > 30
    retro = style("digital_illustration/80s", prompt="a lake", size=(160, 160))
    floor = retro[112:]
    assert (floor[..., 2] > 150).mean() > 0.02  # glowing grid lines
    assert luma(floor).mean() < 60


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_raw_is_flatter_and_grainier(seed: int) -> None:
    raw = render("a fox in the snow", "flux/1.1/pro-ultra", (160, 160), seed, raw=True)
    cooked = render("a fox in the snow", "flux/1.1/pro-ultra", (160, 160), seed, raw=False)
    assert chroma(raw) < chroma(cooked)
    assert high_freq(raw) > high_freq(cooked)


@pytest.mark.parametrize("endpoint", ["sdxl/generative", "sd/1/generative"])
def test_higher_guidance_follows_the_prompt_palette_more(endpoint: str) -> None:
    for seed in (1, 2):
        low = render("a red rose", endpoint, seed=seed, guidance=2)
        high = render("a red rose", endpoint, seed=seed, guidance=15)
        assert redness(high) > redness(low) + 10
        assert luma(high).std() > luma(low).std()


def test_every_scheduler_changes_the_image_slightly() -> None:
    base = render("a knight in a forest", "sdxl/pony", (96, 96))
    images = {
        s: render("a knight in a forest", "sdxl/pony", (96, 96), scheduler=s) for s in SCHEDULERS
    }
    for image in images.values():
        assert 0.5 < mad(base, image) < 25  # same composition, different noise character
    for a, b in itertools.combinations(SCHEDULERS, 2):
        assert mad(images[a], images[b]) > 0.3, (a, b)


@pytest.mark.parametrize(
    ("endpoint", "models"),
    [
        ("re-craft/generative", ["v2", "v3"]),
        ("sdxl/generative", ["v1", "lightning"]),
        ("sdxl/pony", ["pony", "ponyai v6", "wai anime sfw"]),
    ],
)
def test_model_changes_the_result(endpoint: str, models: list[str]) -> None:
    images = [render("a lake", endpoint, (96, 96), model=m) for m in models]
    for a, b in itertools.combinations(images, 2):
        assert mad(a, b) > 10
    omitted = render("a lake", endpoint, (96, 96))
    assert min(mad(image, omitted) for image in images) == 0  # omitted = the default model


# --------------------------------------------------------------------------- encode_png


def test_encode_png_is_png_with_text_chunks() -> None:
    image = render_image("flux/dev", {"prompt": "a lake", "seed": 1}, (40, 30))
    data = encode_png(image, {"prompt": "a lake", "Comment": "smörgåsbord ☃", "seed": "1"})
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"tEXt" in data and b"iTXt" in data  # the snowman needs iTXt
    back = Image.open(io.BytesIO(data))
    assert back.text == {"prompt": "a lake", "Comment": "smörgåsbord ☃", "seed": "1"}
    assert np.array_equal(np.asarray(back.convert("RGB")), np.asarray(image))
    assert encode_png(image) == encode_png(image)
    assert b"tEXt" not in encode_png(image)


def test_encode_png_keeps_emoji_alpha() -> None:
    image = render_image("sdxl/emoji", {"prompt": "a heart", "seed": 1}, (64, 64))
    back = Image.open(io.BytesIO(encode_png(image)))
    assert back.mode == "RGBA"
    assert np.array_equal(np.asarray(back), np.asarray(image))
