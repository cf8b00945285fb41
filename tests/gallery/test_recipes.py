"""The recipe in the file (gallery/recipes.py): written into a PNG, read back from ours,
A1111's and InvokeAI's."""

from __future__ import annotations

import hashlib
import io
import json
import zlib

import pytest
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

from gallery.recipes import (
    A1111_KEY,
    OUR_KEY,
    Recipe,
    a1111_parameters,
    content_checksum,
    embed_recipe,
    parse_a1111,
    read_recipe,
    strip_recipe,
)
from openjourney.pngtext import MalformedPng, png_text
from tests.factories import png_bytes

RECIPE = Recipe(
    endpoint="sdxl/generative",
    prompt="a lighthouse at dusk, oil painting",
    negative_prompt="blurry",
    params={"model": "v1", "canvas": "Landscape", "guidance": 6.5},
    seed=987654321,
)


def chunk_types(content: bytes) -> list[bytes]:
    types, pos = [], 8
    while pos < len(content):
        length = int.from_bytes(content[pos : pos + 4], "big")
        types.append(content[pos + 4 : pos + 8])
        pos += 12 + length
    return types


def test_round_trip_keeps_recipe_lineage_and_pixels():
    original = png_bytes((80, 60), (12, 200, 90), compress_level=1)
    embedded = embed_recipe(original, RECIPE, {"image": None, "parent": 7, "job": 42})

    recipe = read_recipe(embedded)
    assert recipe.source == "openjourney"
    assert (recipe.endpoint, recipe.prompt, recipe.negative_prompt, recipe.seed) == (
        "sdxl/generative",
        "a lighthouse at dusk, oil painting",
        "blurry",
        987654321,
    )
    assert recipe.params == {"model": "v1", "canvas": "Landscape", "guidance": 6.5}
    assert recipe.lineage == {"image": None, "parent": 7, "job": 42}
    assert (recipe.width, recipe.height) == (80, 60)

    # Spliced, not re-encoded: without our chunks the file is the original byte for byte.
    assert strip_recipe(embedded) == original
    assert content_checksum(embedded) == hashlib.sha256(original).hexdigest()
    before, after = PILImage.open(io.BytesIO(original)), PILImage.open(io.BytesIO(embedded))
    assert before.tobytes() == after.tobytes()
    # Before the image data, where streaming readers look.
    types = chunk_types(embedded)
    assert types.index(b"tEXt") < types.index(b"IDAT")
    assert types[-1] == b"IEND"


def test_parameters_chunk_is_in_the_a1111_layout():
    embedded = embed_recipe(png_bytes((80, 60)), RECIPE, {"job": 1})
    text = png_text(embedded)[A1111_KEY]
    assert text == (
        "a lighthouse at dusk, oil painting\n"
        "Negative prompt: blurry\n"
        "Steps: 30, Sampler: Euler a, CFG scale: 6.5, Seed: 987654321, Size: 80x60, "
        "Model: sdxl/generative, Version: openjourney-studio"
    )
    # Pillow (and so A1111's "PNG Info") reads it as a plain tEXt chunk.
    assert PILImage.open(io.BytesIO(embedded)).text[A1111_KEY] == text
    ours = json.loads(png_text(embedded)[OUR_KEY])
    assert ours["version"] == 1
    assert set(ours["recipe"]) == {"endpoint", "prompt", "negative_prompt", "params", "seed"}
    assert set(ours["lineage"]) == {"image", "parent", "job"}


def test_negative_line_is_left_out_when_empty_and_defaults_fill_in():
    recipe = Recipe(endpoint="flux/schnell", prompt="a cat", seed=None)
    text = a1111_parameters(Recipe(**{**recipe.__dict__, "width": 1024, "height": 1024}))
    assert text == (
        "a cat\nSteps: 4, Sampler: Euler a, CFG scale: 7, Size: 1024x1024, "
        "Model: flux/schnell, Version: openjourney-studio"
    )
    pony = Recipe(endpoint="sdxl/pony", prompt="a", params={"scheduler": "DPM++ 2M Karras"})
    assert "Sampler: DPM++ 2M Karras" in a1111_parameters(pony)


def test_embedding_again_replaces_our_chunks():
    once = embed_recipe(png_bytes(), RECIPE, {"job": 1})
    twice = embed_recipe(once, Recipe(endpoint="flux/dev", prompt="a new prompt"), {"job": 2})
    assert chunk_types(twice).count(b"tEXt") == 1
    assert chunk_types(twice).count(b"iTXt") == 1
    assert read_recipe(twice).prompt == "a new prompt"
    assert read_recipe(twice).lineage["job"] == 2


def test_prompt_beyond_latin1_goes_into_an_itxt_chunk():
    recipe = Recipe(endpoint="flux/dev", prompt="東京の夜景 ✨", seed=3)
    embedded = embed_recipe(png_bytes(), recipe, {"job": 1})
    assert b"tEXt" not in chunk_types(embedded)
    assert read_recipe(embedded).prompt == "東京の夜景 ✨"
    assert parse_a1111(png_text(embedded)[A1111_KEY]).prompt == "東京の夜景 ✨"


def test_read_recipe_takes_a_pillow_image_too():
    embedded = embed_recipe(png_bytes(), RECIPE, {"job": 5})
    recipe = read_recipe(PILImage.open(io.BytesIO(embedded)))
    assert recipe.prompt == RECIPE.prompt and recipe.lineage["job"] == 5


def test_a1111_file_made_with_pillow():
    info = PngInfo()
    info.add_text(
        "parameters",
        "masterpiece, a knight in silver armour\nstanding in the rain\n"
        "Negative prompt: lowres, bad hands\n"
        "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 5.5, Seed: 31337, Size: 832x1216, "
        'Model hash: 31e35c80fc, Model: ponyDiffusionV6XL, Lora hashes: "a: 1, b: 2", '
        "Version: v1.9.4",
    )
    buffer = io.BytesIO()
    PILImage.new("RGB", (83, 121)).save(buffer, "PNG", pnginfo=info)
    recipe = read_recipe(buffer.getvalue())
    assert recipe.source == "a1111"
    assert recipe.prompt == "masterpiece, a knight in silver armour\nstanding in the rain"
    assert recipe.negative_prompt == "lowres, bad hands"
    assert recipe.seed == 31337
    assert (recipe.width, recipe.height) == (832, 1216)
    assert recipe.model == "ponyDiffusionV6XL"
    assert recipe.endpoint == ""  # not a catalog slug
    assert recipe.params == {"guidance": 5.5, "scheduler": "DPM++ 2M Karras"}


def test_a1111_model_that_is_a_catalog_slug_names_the_endpoint():
    recipe = parse_a1111("a cat\nSteps: 4, Sampler: Euler, CFG scale: 1, Model: flux/dev")
    assert recipe.endpoint == "flux/dev"
    assert parse_a1111("a cat\nSteps: 4, Sampler: Euler, Model: job/{id}").endpoint == ""


def test_invokeai_metadata():
    info = PngInfo()
    info.add_text(
        "invokeai_metadata",
        json.dumps(
            {
                "generation_mode": "txt2img",
                "positive_prompt": "a red panda eating bamboo",
                "negative_prompt": "text, watermark",
                "width": 1024,
                "height": 1024,
                "seed": 4242,
                "cfg_scale": 7.5,
                "scheduler": "euler_a",
                "steps": 30,
                "model": {"name": "Juggernaut XL v9", "base": "sdxl", "type": "main"},
            }
        ),
    )
    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 32)).save(buffer, "PNG", pnginfo=info)
    recipe = read_recipe(buffer.getvalue())
    assert recipe.source == "invokeai"
    assert recipe.prompt == "a red panda eating bamboo"
    assert recipe.negative_prompt == "text, watermark"
    assert recipe.seed == 4242
    assert (recipe.width, recipe.height) == (1024, 1024)
    assert recipe.model == "Juggernaut XL v9 (sdxl)"
    assert recipe.params == {"guidance": 7.5, "scheduler": "Euler a"}


def _png_with(*chunks: tuple[str, str]) -> bytes:
    info = PngInfo()
    for key, value in chunks:
        info.add_text(key, value)
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "ours",
    [
        "{not json",
        "[]",
        '"a string"',
        json.dumps({"version": 2, "recipe": {"endpoint": "flux/dev", "prompt": "x"}}),
        json.dumps({"version": 1, "recipe": "flux/dev"}),
        json.dumps({"version": 1, "recipe": {"endpoint": 5, "prompt": ["x"]}}),
        "[" * 100_000,
    ],
)
def test_malformed_chunk_of_ours_is_ignored_for_the_next_reader(ours):
    content = _png_with((OUR_KEY, ours), (A1111_KEY, "a fallback\nSteps: 1, Seed: 9, Size: 8x8"))
    recipe = read_recipe(content)
    assert recipe.source == "a1111" and recipe.prompt == "a fallback" and recipe.seed == 9


def test_wrong_types_inside_our_chunk_are_dropped_field_by_field():
    ours = json.dumps(
        {
            "version": 1,
            "recipe": {
                "endpoint": "flux/dev",
                "prompt": "ok",
                "negative_prompt": 3,
                "params": {"canvas": "Square", "bad": {"nested": 1}, "nan": "x"},
                "seed": -5,
            },
            "lineage": {"job": "7", "parent": True, "image": None},
        }
    )
    recipe = read_recipe(_png_with((OUR_KEY, ours)))
    assert recipe.prompt == "ok" and recipe.negative_prompt == "" and recipe.seed is None
    assert recipe.params == {"canvas": "Square", "nan": "x"}
    assert recipe.lineage == {"image": None}


@pytest.mark.parametrize(
    "chunks",
    [
        (),
        (("parameters", ""),),
        (("parameters", "   \n  "),),
        (("invokeai_metadata", "{broken"),),
        (("invokeai_metadata", json.dumps({"width": 5})),),
        (("Comment", "made with something"),),
    ],
)
def test_files_without_a_usable_recipe_give_none(chunks):
    assert read_recipe(_png_with(*chunks)) is None


def test_inflation_bomb_in_a_compressed_chunk_is_not_inflated():
    bomb = zlib.compress(b"a" * (50 * 1024 * 1024), 9)
    data = b"parameters\0\0" + bomb
    chunk = len(data).to_bytes(4, "big") + b"zTXt" + data
    chunk += (zlib.crc32(b"zTXt" + data) & 0xFFFFFFFF).to_bytes(4, "big")
    plain = png_bytes()
    content = plain[:33] + chunk + plain[33:]
    assert read_recipe(content) is None


def test_truncated_or_foreign_bytes():
    embedded = embed_recipe(png_bytes(), RECIPE, {"job": 1})
    assert read_recipe(b"GIF89a not a png") is None
    # The chunks before the damage still count.
    assert read_recipe(embedded[: len(embedded) - 20]).prompt == RECIPE.prompt
    with pytest.raises(MalformedPng):
        embed_recipe(embedded[:40], RECIPE, {"job": 1})
    with pytest.raises(MalformedPng):
        embed_recipe(b"\x89PNG\r\n\x1a\n" + b"\0" * 30, RECIPE, {"job": 1})
