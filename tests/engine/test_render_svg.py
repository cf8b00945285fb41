"""Tests of the procedural SVG renderer (engine.render.svg) for re-craft/svg."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from engine.render.svg import SVG_STYLES, render_svg

NS = "{http://www.w3.org/2000/svg}"
ALLOWED = {"svg", "g", "path", "rect", "circle", "polygon", "line"}
PROMPTS = [
    "mountains at sunset",
    "a red city skyline at night by the sea",
    "portrait of a man in a forest",
    "abstract flow",
]


def svg(
    prompt: str = "mountains at sunset", style: str = "line_art", size=(1024, 1024), **kw
) -> str:
    return render_svg({"prompt": prompt, "style": style, "seed": kw.pop("seed", 5), **kw}, size)


def tags(root: ET.Element) -> list[str]:
    return [el.tag.removeprefix(NS) for el in root.iter()]


def colours(text: str) -> list[tuple[int, int, int]]:
    found = re.findall(r'(?:fill|stroke)="#([0-9a-f]{6})"', text)
    return [(int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)) for h in found]


@pytest.mark.parametrize("style", SVG_STYLES)
@pytest.mark.parametrize("size", [(1024, 1024), (768, 1344), (1344, 768)])
def test_svg_is_a_valid_standalone_document(style: str, size: tuple[int, int]) -> None:
    text = svg(style=style, size=size)
    root = ET.fromstring(text)
    w, h = size
    assert root.tag == f"{NS}svg"
    assert root.get("viewBox") == f"0 0 {w} {h}"
    assert root.get("width") == str(w) and root.get("height") == str(h)
    assert text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert set(tags(root)) <= ALLOWED
    assert len(root) >= 2


@pytest.mark.parametrize("style", SVG_STYLES)
@pytest.mark.parametrize("prompt", PROMPTS)
def test_svg_is_safe_vector_only(style: str, prompt: str) -> None:
    text = svg(prompt, style)
    root = ET.fromstring(text)
    for el in root.iter():
        assert el.tag.removeprefix(NS) in ALLOWED
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on")
            assert "href" not in name.lower()
            assert "url(" not in value and "javascript:" not in value.lower()
    assert "<image" not in text and "<script" not in text and "<foreignObject" not in text
    assert "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_hostile_prompt_stays_inert_and_valid() -> None:
    text = svg('<script>alert(1)</script> " onload="x" & \x01 \ud800 end', "linocut")
    root = ET.fromstring(text)
    assert set(tags(root)) <= ALLOWED
    assert "<script" not in text
    assert all(not n.startswith("on") for el in root.iter() for n in el.attrib)


@pytest.mark.parametrize("style", SVG_STYLES)
def test_svg_is_deterministic_by_seed_and_prompt(style: str) -> None:
    assert svg(style=style, seed=9) == svg(style=style, seed=9)
    assert svg(style=style, seed=9) != svg(style=style, seed=10)
    assert svg("a forest", style, seed=9) != svg("a lake", style, seed=9)


@pytest.mark.parametrize("style", SVG_STYLES)
def test_colour_words_steer_the_palette(style: str) -> None:
    def redness(text: str) -> float:
        cs = colours(text)
        return sum(r - (g + b) / 2 for r, g, b in cs) / len(cs)

    red, blue = svg("a red lake", style), svg("a blue lake", style)
    assert redness(red) > redness(blue) + 30


def test_styles_have_their_own_look() -> None:
    texts = {style: svg(PROMPTS[0], style) for style in SVG_STYLES}
    for a, b in itertools.combinations(SVG_STYLES, 2):
        assert texts[a] != texts[b]

    # engraving: many parallel horizontal hatching strokes
    assert len(re.findall(r'd="M[-\d.]+ [-\d.]+H[-\d.]+"', texts["engraving"])) > 80

    # line_art: a few clean strokes and no filled shapes besides the paper
    root = ET.fromstring(texts["line_art"])
    shapes = [el for el in root.iter() if el.tag.removeprefix(NS) in {"path", "circle", "polygon"}]
    assert 3 <= len(shapes) <= 40
    filled = [el for el in root.iter() if el.get("fill") not in (None, "none")]
    assert [el.tag.removeprefix(NS) for el in filled] == ["rect"]

    # line_circuit: orthogonal traces ending in pad circles
    root = ET.fromstring(texts["line_circuit"])
    traces = [el.get("d") for el in root.iter(f"{NS}path")]
    assert len(traces) >= 15
    for d in traces:
        pts = [tuple(map(float, p.split())) for p in re.split(r"[ML]", d) if p.strip()]
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            assert x0 == x1 or y0 == y1
    assert len(list(root.iter(f"{NS}circle"))) >= 20

    # linocut: bold two-colour print (ink + paper only)
    assert len(set(colours(texts["linocut"]))) == 2


@pytest.mark.parametrize("style", SVG_STYLES)
def test_model_v3_draws_more_detail_than_v2(style: str) -> None:
    v2 = ET.fromstring(svg(PROMPTS[1], style, model="v2"))
    v3 = ET.fromstring(svg(PROMPTS[1], style, model="v3"))
    assert len(list(v3.iter())) > len(list(v2.iter())) or len(ET.tostring(v3)) > 1.2 * len(
        ET.tostring(v2)
    )
    assert svg(PROMPTS[1], style) == svg(PROMPTS[1], style, model="v3")  # v3 is the default


@pytest.mark.parametrize("style", SVG_STYLES)
def test_svg_stays_small_at_2048_wide(style: str) -> None:
    for prompt in PROMPTS:
        for size in ((2048, 2048), (2048, 1152)):
            assert len(svg(prompt, style, size=size).encode()) < 200_000


def test_unknown_style_falls_back_to_line_art() -> None:
    assert svg(style="nope") == svg(style="line_art")
