"""The subject library (engine.render.drawings), word matching (engine.render.subject_words)
and the subjects drawn into the text-to-image scenes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.render.drawings import CREDIT, LICENCE, index, raster
from engine.render.png import encode_png
from engine.render.subject_words import _SYNONYMS, MAX_COUNT, find_subjects
from engine.render.text_to_image import render_image
from openjourney.pngtext import png_text

ROOT = Path(__file__).resolve().parents[2]


def names(prompt: str) -> list[tuple[str, int]]:
    return [(s.drawing.name, s.count) for s in find_subjects(prompt)]


# --------------------------------------------------------------------------- the library


def test_library_is_large_and_every_synonym_names_a_drawing() -> None:
    assert len(index()) > 2000
    assert sorted(v for v in _SYNONYMS.values() if v not in index()) == []


def test_raster_is_cropped_rgba_with_an_opaque_drawing() -> None:
    a = raster(index()["fox"].code, 200)
    assert a.dtype == np.float32 and a.shape[2] == 4
    assert max(a.shape[:2]) <= 200 and min(a.shape[:2]) > 100
    # Cropped: the outer rows and columns hold some of the drawing.
    assert a[0, :, 3].max() > 0.02 and a[-1, :, 3].max() > 0.02
    assert a[:, :, 3].mean() > 0.3


def test_licence_is_named_in_the_docs() -> None:
    assert LICENCE == "CC BY-SA 4.0"
    docs = (ROOT / "docs" / "engine.md").read_text()
    assert "OpenMoji" in docs and "CC BY-SA 4.0" in docs


# --------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a kitten", [("cat", 1)]),
        ("a skyscraper at noon", [("office building", 1)]),
        ("a car on a road", [("automobile", 1)]),
        ("foxes in the snow", [("fox", 3)]),
        ("two puppies", [("dog", 2)]),
        ("wolves and mice", [("wolf", 3), ("mouse", 3)]),
        ("a hot dog", [("hot dog", 1)]),
        ("a polar bear on ice", [("polar bear", 1)]),
        ("three cats", [("cat", 3)]),
        ("5 bicycles", [("bicycle", 5)]),
        ("a pair of swans", [("swan", 2)]),
        ("a flock of 40 birds", [("bird", MAX_COUNT)]),
        ("a dog chasing a cat", [("dog", 1), ("cat", 1)]),
        ("a cup of coffee", [("hot beverage", 1)]),
        ("a red rose", [("rose", 1)]),
    ],
)
def test_words_name_subjects(prompt: str, expected: list[tuple[str, int]]) -> None:
    assert names(prompt) == expected


@pytest.mark.parametrize(
    "prompt",
    [
        "mountains at sunset over a lake",  # the scene draws those itself
        "portrait of a woman",  # people are the figure's
        "a green abstract painting",  # words about the picture
        "a zorblax in the flumph",  # unknown words: nothing, never a random drawing
        "a sleepy smiling cool face",
        "",
    ],
)
def test_words_that_name_no_drawing_give_none(prompt: str) -> None:
    assert find_subjects(prompt) == ()


def test_colour_binds_to_its_noun() -> None:
    fox, door = find_subjects("a red fox by a big dark blue door")
    assert (fox.drawing.name, fox.colour_name, fox.colour) == ("fox", "red", (214, 40, 40))
    assert door.drawing.name == "door" and door.colour_name == "dark blue"
    # "and" and prepositions end the phrase: the colour belongs to nothing here.
    (cat,) = find_subjects("red and blue, a cat")
    assert cat.colour is None


def test_kinds_place_subjects() -> None:
    kinds = {n: index()[n].kind for n in ("bird", "sailboat", "fish", "castle", "hot beverage")}
    assert kinds == {
        "bird": "sky",
        "sailboat": "water",
        "fish": "underwater",
        "castle": "building",
        "hot beverage": "object",
    }
    assert index()["fox"].kind == "ground"


# --------------------------------------------------------------------------- drawing


def render(prompt: str, seed: int = 5, size: tuple[int, int] = (160, 160), **kw: object):
    image = render_image("flux/dev", {"prompt": prompt, "seed": seed, **kw}, size)
    return image, np.asarray(image).astype(np.float32)


def changed(prompt: str, seed: int = 5, **kw: object) -> np.ndarray:
    """Where the subject is: the same request with the subject in the negative prompt
    draws the same scene without it."""
    (word,) = {s.word for s in find_subjects(prompt)[:1]}
    _, a = render(prompt, seed, **kw)
    _, b = render(prompt, seed, negative_prompt=word, **kw)
    return np.abs(a - b).max(axis=2) > 24


def centroid(mask: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(mask)
    assert len(ys) > mask.size * 0.01, "the subject is missing"
    return float(xs.mean() / mask.shape[1]), float(ys.mean() / mask.shape[0])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ground_subject_stands_below_the_horizon(seed: int) -> None:
    _, y = centroid(changed("a fox in a meadow", seed))
    assert y > 0.6


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sky_subject_flies_above_the_horizon(seed: int) -> None:
    _, y = centroid(changed("an airplane over the sea", seed))
    assert y < 0.5


def test_boat_floats_on_the_water_and_fish_swim_under_it() -> None:
    _, y = centroid(changed("a sailboat on the sea"))
    assert y > 0.5
    fish = changed("a fish")
    assert fish.mean() > 0.01  # drawn in its own underwater scene
    _, image = render("a fish")
    assert image[..., 2].mean() > image[..., 0].mean() + 20  # that scene is blue water


def test_object_stands_on_a_table_in_a_still_life() -> None:
    mask = changed("an avocado")
    _, y = centroid(mask)
    assert 0.35 < y < 0.95


def test_bound_colour_tints_the_subject_not_the_scene() -> None:
    _, red = render("a red door in a meadow")
    _, blue = render("a blue door in a meadow")
    car = changed("a door in a meadow")  # where the door is (same layout: colours only tint)
    r, b = red[car], blue[car]
    assert (r[:, 0] - r[:, 2]).mean() > 40 and (b[:, 2] - b[:, 0]).mean() > 40
    sky = slice(0, 30)  # the sky is the scene's: the same for both colours
    assert np.abs(red[sky] - blue[sky]).mean() < 3


def test_same_request_same_bytes_another_seed_elsewhere() -> None:
    a, _ = render("three cats and a dog in a garden", 7)
    b, _ = render("three cats and a dog in a garden", 7)
    assert encode_png(a) == encode_png(b)
    xy = {centroid(changed("a castle on a hill", seed)) for seed in (1, 2, 3, 4)}
    assert len({(round(x, 2), round(y, 2)) for x, y in xy}) >= 3


def test_counts_draw_more_subjects() -> None:
    def blobs(mask: np.ndarray) -> int:
        _n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
        return int((stats[1:, cv2.CC_STAT_AREA] > mask.size * 0.002).sum())

    for seed in (1, 2, 3):
        assert blobs(changed("a cat in a meadow", seed)) == 1
        assert blobs(changed("three cats in a meadow", seed)) >= 2


def test_snowy_and_rainy_words_act_on_the_scene() -> None:
    _, plain = render("a fox in a forest at dawn")
    _, snow = render("a fox in a snowy forest at dawn")
    white = (snow.min(axis=2) > 225).mean()
    assert white > (plain.min(axis=2) > 225).mean() + 0.02
    _, rain = render("a fox in a rainy forest at dawn")
    assert rain.mean() < plain.mean()


def test_images_with_a_drawing_credit_it_in_their_png_text() -> None:
    with_drawing, _ = render("a bicycle")
    text = png_text(encode_png(with_drawing))
    assert text["Copyright"] == CREDIT and "CC BY-SA 4.0" in CREDIT and "OpenMoji" in CREDIT
    without, _ = render("mountains at sunset over a lake")
    assert "Copyright" not in png_text(encode_png(without))


def test_looks_and_styles_apply_to_the_subject() -> None:
    prompt = "a castle"
    plain = render_image(
        "re-craft/generative", {"prompt": prompt, "seed": 2, "style": "realistic_image"}, (128, 128)
    )
    pixel = render_image(
        "re-craft/generative",
        {"prompt": prompt, "seed": 2, "style": "digital_illustration/pixel_art"},
        (128, 128),
    )
    a, b = np.asarray(plain).astype(np.float32), np.asarray(pixel).astype(np.float32)
    centre = (slice(40, 120), slice(30, 100))
    assert np.abs(a[centre] - b[centre]).mean() > 10
    # Pixel art: neighbouring pixels repeat in the subject too.
    same = (np.asarray(pixel)[centre][:, 1:] == np.asarray(pixel)[centre][:, :-1]).all(-1).mean()
    assert same > 0.5


def test_emoji_maker_draws_the_named_thing_glossy() -> None:
    avocado = np.asarray(
        render_image("sdxl/emoji", {"prompt": "an avocado", "seed": 1}, (128, 128))
    )
    face = np.asarray(render_image("sdxl/emoji", {"prompt": "a happy face", "seed": 1}, (128, 128)))
    assert avocado.shape == (128, 128, 4)
    opaque = avocado[..., 3] > 200
    # An avocado is green where the smiley is yellow, and shaded: lit and dark sides.
    g = avocado[..., :3][opaque].astype(np.float32)
    assert (g[:, 1] > g[:, 0] + 20).mean() > 0.3
    assert np.abs(face.astype(np.float32) - avocado).mean() > 20
    lum = g.mean(axis=1)
    assert lum.max() - np.percentile(lum, 50) > 60  # a specular highlight
    # A soft shadow: half-transparent pixels under the sticker.
    assert ((avocado[..., 3] > 10) & (avocado[..., 3] < 120)).mean() > 0.02


def test_age_and_beard_words_change_the_portrait() -> None:
    from engine.render.prompt import analyse_prompt
    from engine.render.text_to_image.subjects import _person

    def person(prompt: str) -> tuple[str, bool, bool]:
        return _person(analyse_prompt(prompt).words)

    assert person("portrait of an old man with a beard") == ("old", True, True)
    assert person("a young woman") == ("", False, False)
    assert person("a boy with a moustache") == ("child", False, True)

    def patches(prompt: str, seed: int) -> tuple[tuple[float, float], tuple[float, float]]:
        """(saturation, value) of the chin and of the crown of the head."""
        image = render_image("flux/dev", {"prompt": prompt, "seed": seed}, (256, 256))
        a = np.asarray(image.convert("RGB"), np.float32) / 255
        out = []
        for y in (0.47, 0.26):
            c = a[int(y * 256) - 2 : int(y * 256) + 2, 124:132].reshape(-1, 3).mean(0)
            out.append((float(1 - c.min() / max(c.max(), 1e-6)), float(c.max())))
        return out[0], out[1]

    for seed in (1, 2, 3):
        (chin_sat, _), (crown_sat, crown_val) = patches("portrait of an old man", seed)
        assert crown_sat < 0.1 and crown_val > 0.5  # grey to white hair
        assert chin_sat > 0.15  # skin: no beard
        (chin_sat, _), _crown = patches("portrait of an old man with a beard", seed)
        assert chin_sat < 0.1  # a white beard over the chin
        (_chin, chin_val), (_s, crown_val) = patches("portrait of a man with a beard", seed)
        assert crown_val < 0.45 and chin_val < 0.45  # dark hair and beard


@pytest.mark.parametrize("size", [(192, 336), (384, 160)])
def test_subjects_stay_inside_the_canvas(monkeypatch: pytest.MonkeyPatch, size) -> None:
    from engine.render.text_to_image import drawn

    boxes: list[tuple[int, int, int, int, int]] = []
    paste = drawn._paste

    def record(s, rgba, x0, y0, colour=None):
        boxes.append((x0, x0 + rgba.shape[1], y0, s.w, s.h))
        paste(s, rgba, x0, y0, colour)

    monkeypatch.setattr(drawn, "_paste", record)
    monkeypatch.setattr(drawn, "_reflect", lambda *a: None)
    for prompt in ("a castle on a hill", "five red apples", "six dogs on a lawn"):
        for seed in range(4):
            render_image("flux/dev", {"prompt": prompt, "seed": seed}, size)
    assert len(boxes) >= 12 * 3
    assert all(x0 >= 0 and x1 <= w and y0 >= 0 for x0, x1, y0, w, _h in boxes)
