"""PNG text chunks and other tools' parameters (openjourney/pngtext.py), plain Python.

The gallery's recipes and the engine's prompt-extract both read through this module; the
last test checks that they read the same prompt from the same file.
"""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from engine.render.utilities.images import open_image
from engine.render.utilities.prompt_extract import read_embedded_prompt
from gallery.recipes import read_recipe
from openjourney.pngtext import (
    MAX_TEXT_BYTES,
    MalformedPng,
    itxt_chunk,
    parse_a1111,
    parse_invokeai,
    png_text,
    splice_text,
    strip_text,
    text_chunk,
)


def png(**texts: str) -> bytes:
    info = PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    Image.new("RGB", (12, 8), (10, 120, 200)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def test_splice_and_strip_touch_only_the_named_text_chunks():
    original = png(Comment="kept", parameters="old")
    spliced = splice_text(
        original, text_chunk("parameters", "new") + itxt_chunk("mine", "ü"), ["parameters"]
    )
    assert png_text(spliced) == {"Comment": "kept", "parameters": "new", "mine": "ü"}
    # The pixels are the same image data, not re-encoded.
    assert Image.open(io.BytesIO(spliced)).tobytes() == Image.open(io.BytesIO(original)).tobytes()
    assert png_text(strip_text(spliced, ["parameters", "mine"])) == {"Comment": "kept"}
    assert strip_text(png(), ["parameters"]) == png()
    with pytest.raises(MalformedPng):
        strip_text(b"GIF89a", ["parameters"])


def test_text_chunk_is_latin1_text_when_it_can_be():
    assert text_chunk("k", "café")[4:8] == b"tEXt"
    assert text_chunk("k", "東京")[4:8] == b"iTXt"


@pytest.mark.parametrize(
    ("text", "prompt", "negative", "seed"),
    [
        ("a cat\nNegative prompt: dogs\nSteps: 20, Sampler: Euler a, Seed: 5", "a cat", "dogs", 5),
        # A1111 always starts its settings with Steps: such a line is settings, however short.
        ("a zTXt prompt\nSteps: 5", "a zTXt prompt", "", None),
        ("two\nlines\r\nSteps: 1, Seed: 3", "two\nlines", "", 3),
        # No settings line: all of it is the prompt.
        ("just a prompt\nover two lines", "just a prompt\nover two lines", "", None),
    ],
)
def test_a1111_prompt_negative_and_settings(text, prompt, negative, seed):
    found = parse_a1111(text)
    assert (found.prompt, found.negative_prompt, found.seed) == (prompt, negative, seed)


def test_a1111_settings_name_the_endpoint_guidance_and_scheduler():
    found = parse_a1111(
        "a\nSteps: 4, Sampler: DPM++ 2M, CFG scale: 3.5, Size: 640x480, Model: flux/dev"
    )
    assert (found.endpoint, found.model, found.guidance, found.scheduler) == (
        "flux/dev",
        "flux/dev",
        3.5,
        "DPM++ 2M",
    )
    assert (found.width, found.height) == (640, 480)
    assert parse_a1111("") is None and parse_a1111("  \n ") is None


@pytest.mark.parametrize(
    "line",
    ["a" * MAX_TEXT_BYTES, "a" + " " * MAX_TEXT_BYTES + "b", "a" * MAX_TEXT_BYTES + ",:"],
)
def test_a1111_reads_the_longest_chunk_the_studio_reads(line):
    # A1111's own pattern took time quadratic in such a line (hours for this size): here it
    # is read at once, as the prompt it is.
    assert parse_a1111(line).prompt == line


def test_invokeai_model_object_names_the_model_and_the_endpoint():
    text = json.dumps(
        {"positive_prompt": "a fox", "seed": 9, "model": {"name": "flux/dev", "base": "flux"}}
    )
    found = parse_invokeai(text)
    assert (found.prompt, found.seed, found.model, found.endpoint) == (
        "a fox",
        9,
        "flux/dev (flux)",
        "flux/dev",
    )
    assert parse_invokeai(json.dumps({"width": 5})) is None
    assert parse_invokeai("[" * 100_000) is None


@pytest.mark.parametrize(
    "texts",
    [
        {"parameters": "a cat in a hat,\nwatercolor\nNegative prompt: blurry\nSteps: 20, Seed: 1"},
        {"parameters": "a red fox\nSteps: 30, Sampler: DPM++ 2M, Seed: 9"},
        {"parameters": "a zTXt prompt\nSteps: 5"},
        {"invokeai_metadata": json.dumps({"positive_prompt": "a castle on a hill", "seed": 1})},
    ],
)
def test_the_gallery_and_the_engine_read_the_same_prompt(texts):
    content = png(**texts)
    assert read_embedded_prompt(open_image(content)) == read_recipe(content).prompt
