"""Tests of the procedural SVG renderer (engine.render.svg) for re-craft/svg."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from engine.render.svg import SVG_STYLES, render_svg

NS = "{http://www.w3.org/2000/svg}"
ALLOWED = {"svg", "g", "path", "rect", "circle", "polygon", "line", "desc"}
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


# --------------------------------------------------------------------------- subjects


def _outline_paths(name: str) -> list[str]:
    from engine.render.drawings import index
    from engine.render.svg_subject import shapes

    found = shapes(index()[name].code)
    return [dict(s.geometry)["d"] for s in found if s.line and s.stroked and s.tag == "path"]


@pytest.mark.parametrize("style", SVG_STYLES)
def test_named_subject_is_drawn_with_its_own_paths(style: str) -> None:
    fox, plain = svg("a fox at sunset", style), svg("a meadow at sunset", style)
    paths = _outline_paths("fox")
    assert len(paths) >= 5
    assert all(d in fox for d in paths)
    assert not any(d in plain for d in paths)
    root = ET.fromstring(fox)
    assert set(tags(root)) <= ALLOWED
    for el in root.iter():
        assert not any(n.lower().startswith("on") or "href" in n.lower() for n in el.attrib)
        assert not any("url(" in v or "script" in v.lower() for v in el.attrib.values())
    assert "http" not in fox.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # The drawing is credited (in a <desc>) only where there is one.
    assert "OpenMoji" in fox and "CC BY-SA 4.0" in fox and "OpenMoji" not in plain
    assert fox == svg("a fox at sunset", style)
    assert fox != svg("a fox at sunset", style, seed=6)


def test_subject_is_restyled_per_style() -> None:
    texts = {style: svg("a red car", style) for style in SVG_STYLES}
    # linocut stays a two-colour print with the subject in it
    assert len(set(colours(texts["linocut"]))) == 2
    # line art draws the subject's outlines unfilled
    root = ET.fromstring(texts["line_art"])
    group = next(g for g in root.iter(f"{NS}g") if (g.get("transform") or "").startswith("tr"))
    outlines = [el for el in group if el.get("stroke") not in (None, "none")]
    assert outlines and all(el.get("fill") == "none" for el in outlines)
    # engraving hatches the subject: more ink strokes than the scene alone
    hatching = len(re.findall(r'd="M[-\d.]+ [-\d.]+H', texts["engraving"]))
    assert hatching > len(re.findall(r'd="M[-\d.]+ [-\d.]+H', svg("a road", "engraving")))


def test_subject_tone_goes_into_the_engravings_tone_map_in_its_box() -> None:
    import numpy as np

    from engine.render.drawings import index
    from engine.render.svg_subject import Placed, engrave_tone

    tone = np.zeros((100, 100))
    box = Placed(index()["black cat"], 0.3, 0.4, 0.7, 0.8, False)
    out = engrave_tone(tone, (box,))
    assert out[40:80, 30:70].max() > 0.5  # the black cat is dark: hatched
    assert out[:40].max() == 0 and out[:, :30].max() == 0 and out[:, 70:].max() == 0


def test_drawing_shapes_keep_only_plain_geometry() -> None:
    from engine.render.svg_subject import _convert

    def el(tag: str, **attrs: str) -> ET.Element:
        return ET.Element(f"{NS}{tag}", {k.replace("_", "-"): v for k, v in attrs.items()})

    assert _convert(el("path", d="M1 2L3 4Z")) == ("path", {"d": "M1 2L3 4Z"})
    assert _convert(el("path", d="M1 2 url(#x)")) is None
    assert _convert(el("path", d="M1 2", transform="javascript:alert(1)")) is None
    assert _convert(el("circle", cx="1", cy="2", r="x")) is None
    assert _convert(el("image", href="http://example.com/x.png")) is None
    assert _convert(el("ellipse", cx="10", cy="10", rx="2", ry="1"))[0] == "path"
    poly = _convert(el("polyline", points="1,2 3,4 5,6"))
    assert poly == ("path", {"d": "M1 2L3 4L5 6"})
    rect = _convert(el("rect", x="1", y="2", width="3", height="4", onclick="x()"))
    assert rect == ("rect", {"x": "1", "y": "2", "width": "3", "height": "4"})


@pytest.mark.parametrize("style", SVG_STYLES)
def test_several_subjects_stay_small_and_inside(style: str) -> None:
    text = svg("three cats, a red car and a sailboat by a lake", style, size=(2048, 1152))
    assert len(text.encode()) < 200_000
    root = ET.fromstring(text)
    groups = [g for g in root.iter(f"{NS}g") if (g.get("transform") or "").startswith("tr")]
    assert len(groups) == 4  # at most four instances
