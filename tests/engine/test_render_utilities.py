"""Tests for the utilities (engine.render.utilities) on real photographs.

The photographs: see tests/fixtures/README.md.

Run without Django: ``pytest -p no:django tests/engine/test_render_utilities.py``.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFilter, ImageOps, PngImagePlugin

from engine.render.utilities.clarify import CLARIFY_TYPES, clarify
from engine.render.utilities.errors import NoFaceFound, UtilityError
from engine.render.utilities.face_restore import face_restore
from engine.render.utilities.face_swap import face_swap
from engine.render.utilities.images import open_image
from engine.render.utilities.prompt_extract import extract_prompt, read_embedded_prompt
from engine.render.utilities.remove_background import remove_background
from engine.render.utilities.upscale import MAX_UPSCALE_OUTPUT_PIXELS, UPSCALE_MODELS, upscale

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


# ----------------------------------------------------------------------------- helpers


def load(name: str) -> Image.Image:
    with Image.open(FIXTURES / name) as im:
        return im.convert("RGB")


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return load("astronaut.png")  # 384 x 384, one frontal face


@pytest.fixture(scope="module")
def coffee() -> Image.Image:
    return load("coffee.png")  # 450 x 300, no face


def arr(image: Image.Image, mode: str = "RGB") -> np.ndarray:
    return np.asarray(image.convert(mode)).astype(np.float64)


def lap_var(image: Image.Image) -> float:
    gray = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray.astype(np.float32), cv2.CV_32F).var())


def noise_level(image: Image.Image) -> float:
    """Immerkaer's noise estimate (grey levels)."""
    gray = np.asarray(image.convert("L")).astype(np.float32)
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    resp = cv2.filter2D(gray, -1, kernel)[1:-1, 1:-1]
    return float(np.sqrt(np.pi / 2) * np.abs(resp).mean() / 6)


def ncc(a: Image.Image, b: Image.Image) -> float:
    """Normalised cross-correlation of the grey images: 1.0 = same structure."""
    x, y = arr(a, "L"), arr(b, "L")
    x, y = x - x.mean(), y - y.mean()
    return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))


def psnr(a: Image.Image, b: Image.Image) -> float:
    mse = float(((arr(a) - arr(b)) ** 2).mean())
    return 10 * np.log10(255.0**2 / max(mse, 1e-9))


def haar_faces(image: Image.Image) -> list[tuple[int, int, int, int]]:
    """Independent Haar check (frontal + profile both ways), largest first."""
    gray = cv2.equalizeHist(cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2GRAY))
    found: list[tuple[int, int, int, int]] = []
    for name in ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml"):
        clf = cv2.CascadeClassifier(cv2.data.haarcascades + name)
        for flip in (False, True):
            g = cv2.flip(gray, 1) if flip else gray
            for x, y, w, h in clf.detectMultiScale(g, 1.1, 5, minSize=(24, 24)):
                x = gray.shape[1] - x - w if flip else x
                found.append((int(x), int(y), int(w), int(h)))
    return sorted(found, key=lambda b: -b[2] * b[3])


def box_mask(shape: tuple[int, int], box: tuple[int, int, int, int], grow: float = 1.0):
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    mask = np.zeros(shape, bool)
    y0, y1 = max(0, round(cy - h * grow / 2)), round(cy + h * grow / 2)
    x0, x1 = max(0, round(cx - w * grow / 2)), round(cx + w * grow / 2)
    mask[y0:y1, x0:x1] = True
    return mask


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def png_bytes(image: Image.Image, **text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    buf = io.BytesIO()
    image.save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG that declares a huge size (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def motion_blur(image: Image.Image, length: int, angle: float = 0.0) -> Image.Image:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    kernel /= kernel.sum()
    out = cv2.filter2D(np.asarray(image), -1, kernel, borderType=cv2.BORDER_REFLECT)
    return Image.fromarray(out)


def add_noise(image: Image.Image, sigma: float, seed: int = 7) -> Image.Image:
    rng = np.random.default_rng(seed)
    noisy = arr(image) + rng.normal(0.0, sigma, arr(image).shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


# ------------------------------------------------------------------------ the fixtures


def test_fixtures_have_the_faces_the_tests_rely_on(astronaut, coffee):
    assert len(haar_faces(astronaut)) >= 1
    assert haar_faces(coffee) == []
    assert haar_faces(load("chelsea.png")) == []
    for name in ("astronaut.png", "coffee.png", "chelsea.png"):
        assert (FIXTURES / name).stat().st_size <= 300_000


# ---------------------------------------------------------------------------- clarify


@pytest.mark.parametrize("kind", ["Image Debluring (REDS)", "Image Debluring (GoPro)"])
def test_clarify_deblurs_motion_blur(astronaut, kind):
    blurred = motion_blur(astronaut, 7, angle=0)
    out = clarify(blurred, kind)
    assert out.size == astronaut.size and out.mode == "RGB"
    assert lap_var(out) > 1.3 * lap_var(blurred)
    assert psnr(out, astronaut) > psnr(blurred, astronaut) + 1.5  # closer to the original


@pytest.mark.parametrize("kind", ["Image Debluring (REDS)", "Image Debluring (GoPro)"])
def test_clarify_deblurs_defocus(astronaut, kind):
    blurred = astronaut.filter(ImageFilter.GaussianBlur(1.5))
    out = clarify(blurred, kind)
    assert lap_var(out) > 1.5 * lap_var(blurred)
    assert psnr(out, astronaut) > psnr(blurred, astronaut)


def test_clarify_types_give_different_results(astronaut):
    blurred = motion_blur(astronaut, 9, angle=30)
    outs = [clarify(blurred, kind).tobytes() for kind in CLARIFY_TYPES]
    assert len(set(outs)) == 3


def test_clarify_denoising_restores_a_noisy_photo(astronaut):
    noisy = add_noise(astronaut, 20)
    out = clarify(noisy, "Image Denoising")
    assert psnr(out, astronaut) > psnr(noisy, astronaut) + 3.0


def test_clarify_denoising_leaves_a_clean_photo_nearly_alone(astronaut):
    assert psnr(clarify(astronaut, "Image Denoising"), astronaut) > 35.0


def test_clarify_type_names_and_errors(astronaut):
    assert CLARIFY_TYPES == (
        "Image Debluring (REDS)",
        "Image Denoising",
        "Image Debluring (GoPro)",
    )
    small = astronaut.resize((64, 64))
    assert clarify(small).tobytes() == clarify(small, "Image Denoising").tobytes()
    with pytest.raises(UtilityError, match="Image Denoising"):
        clarify(small, "Sharpen")


def test_clarify_keeps_alpha(astronaut):
    rgba = astronaut.resize((96, 96)).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((96, 96)))
    out = clarify(rgba, "Image Debluring (REDS)")
    assert out.mode == "RGBA"
    assert out.getchannel("A").tobytes() == rgba.getchannel("A").tobytes()


# ----------------------------------------------------------------------- face restore


def test_face_restore_works_on_the_face(astronaut):
    degraded = add_noise(astronaut.filter(ImageFilter.BLUR), 8)
    out = face_restore(degraded)
    assert out.size == degraded.size
    diff = np.abs(arr(out) - arr(degraded)).sum(axis=2)
    face = box_mask(diff.shape, haar_faces(degraded)[0])
    outside = ~box_mask(diff.shape, haar_faces(degraded)[0], grow=2.0)
    assert diff[face].mean() > 10 * max(diff[outside].mean(), 0.1)
    assert diff[outside].max() == 0  # the rest of the picture is untouched
    # The face got cleaner (less noise) and sharper.
    x, y, w, h = haar_faces(degraded)[0]
    before, after = degraded.crop((x, y, x + w, y + h)), out.crop((x, y, x + w, y + h))
    assert noise_level(after) < 0.8 * noise_level(before)
    assert lap_var(after.filter(ImageFilter.GaussianBlur(1))) > lap_var(
        before.filter(ImageFilter.GaussianBlur(1))
    )


def test_face_restore_without_a_face_enhances_lightly(coffee):
    out = face_restore(coffee)
    diff = np.abs(arr(out) - arr(coffee))
    assert out.size == coffee.size
    assert diff.mean() > 0.3  # something was done ...
    assert diff.mean() < 8.0  # ... but gently


# -------------------------------------------------------------------------- face swap


def test_face_swap_puts_the_source_face_on_the_target(astronaut):
    target = ImageOps.mirror(astronaut)  # same person, but a different face picture
    out = face_swap(astronaut, target)
    assert out.size == target.size and out.mode == "RGB"

    sx, sy, sw, sh = haar_faces(astronaut)[0]
    t_box = haar_faces(target)[0]
    tx, ty, tw, th = t_box
    src_face = np.asarray(astronaut.crop((sx, sy, sx + sw, sy + sh)).resize((tw, th)))

    def distance(image: Image.Image) -> float:
        face = np.asarray(image.crop((tx, ty, tx + tw, ty + th)))
        return float(np.abs(face.astype(float) - src_face).mean())

    assert distance(out) < 0.7 * distance(target)
    diff = np.abs(arr(out) - arr(target)).sum(axis=2)
    outside = ~box_mask(diff.shape, t_box, grow=1.8)
    assert diff[outside].max() == 0  # only the face region is blended


def test_face_swap_needs_a_face_in_both_images(astronaut, coffee):
    with pytest.raises(NoFaceFound, match=r"^No face found in the source image\.$"):
        face_swap(coffee, astronaut)
    with pytest.raises(NoFaceFound, match=r"^No face found in the target image\.$"):
        face_swap(astronaut, coffee)
    assert issubclass(NoFaceFound, UtilityError)


def test_face_swap_keeps_the_target_alpha(astronaut):
    target = ImageOps.mirror(astronaut).convert("RGBA")
    alpha = Image.new("L", target.size, 255)
    alpha.paste(0, (0, 0, 40, 40))
    target.putalpha(alpha)
    out = face_swap(astronaut, target)
    assert out.mode == "RGBA"
    assert out.getchannel("A").tobytes() == alpha.tobytes()


# ------------------------------------------------------------------ remove background


def test_remove_background_on_a_synthetic_object():
    canvas = np.full((240, 320, 3), (205, 215, 225), np.uint8)
    cv2.circle(canvas, (160, 120), 70, (200, 40, 40), -1)
    cv2.rectangle(canvas, (145, 40), (175, 200), (30, 30, 120), -1)
    out = remove_background(Image.fromarray(canvas))
    assert out.mode == "RGBA" and out.size == (320, 240)
    a = np.asarray(out.getchannel("A"))
    assert a[0, 0] == a[0, -1] == a[-1, 0] == a[-1, -1] == 0
    assert a[120, 160] == 255 and a[120, 100] == 255  # inside the disc
    assert a[120, 20] == 0 and a[20, 160] == 0  # background beside and above it
    assert (a == 0).mean() > 0.5  # most of the frame is background
    assert np.array_equal(np.asarray(out.convert("RGB")), canvas)  # colours untouched


def test_remove_background_on_a_portrait(astronaut):
    out = remove_background(astronaut)
    a = np.asarray(out.getchannel("A"))
    h, w = a.shape
    assert a[0, 0] == a[0, w - 1] == a[h - 1, 0] == a[h - 1, w - 1] == 0
    assert a[h // 2, w // 2] == 255
    x, y, fw, fh = haar_faces(astronaut)[0]
    assert a[y + fh // 2, x + fw // 2] == 255  # the face
    assert a[20, 250] == 0  # the grey backdrop between head and shuttle model
    assert 0.25 < (a > 127).mean() < 0.8


def test_remove_background_works_at_1024(astronaut):
    # Its speed is measured by bench/engine.py, not here.
    big = astronaut.resize((1024, 1024), Image.Resampling.LANCZOS)
    out = remove_background(big)
    assert out.size == (1024, 1024)
    assert out.mode == "RGBA"


def test_remove_background_respects_existing_alpha():
    canvas = np.full((120, 160, 3), 230, np.uint8)
    cv2.rectangle(canvas, (50, 30), (110, 90), (20, 120, 40), -1)
    image = Image.fromarray(canvas).convert("RGBA")
    alpha = Image.new("L", image.size, 255)
    alpha.paste(0, (0, 0, 80, 120))  # left half already transparent
    image.putalpha(alpha)
    a = np.asarray(remove_background(image).getchannel("A"))
    assert a[:, :80].max() == 0
    assert a[60, 100] == 255


# ---------------------------------------------------------------------------- upscale


def test_upscale_models_are_the_documented_four():
    assert set(UPSCALE_MODELS) == {
        "Openjourney Redefine",
        "EpicRealism Natural",
        "Real-ESRGAN",
        "Animagine Redefine",
    }
    for name, method in UPSCALE_MODELS.items():
        assert method.name == name
        assert isinstance(method.factor, int) and method.factor >= 2
        assert method.description
    assert MAX_UPSCALE_OUTPUT_PIXELS == 4096 * 4096


@pytest.mark.parametrize("model", sorted(UPSCALE_MODELS))
def test_upscale_size_is_exactly_the_factor(astronaut, model):
    image = astronaut.resize((37, 23))
    factor = UPSCALE_MODELS[model].factor
    out = upscale(image, model)
    assert out.size == (37 * factor, 23 * factor)
    assert out.mode == "RGB"
    # It is an enlargement of the same picture, not noise: compare at the input size.
    back = out.resize(image.size, Image.Resampling.BOX)
    assert ncc(back, image) > 0.95


def test_upscale_default_is_real_esrgan_x4(astronaut):
    image = astronaut.resize((50, 40))
    assert upscale(image).tobytes() == upscale(image, "Real-ESRGAN").tobytes()
    assert upscale(image).size == (200, 160)


@pytest.mark.parametrize("model", sorted(UPSCALE_MODELS))
def test_upscale_keeps_alpha(astronaut, model):
    image = astronaut.resize((40, 30)).convert("RGBA")
    alpha = Image.new("L", image.size, 255)
    alpha.paste(0, (0, 0, 20, 30))
    image.putalpha(alpha)
    out = upscale(image, model)
    f = UPSCALE_MODELS[model].factor
    a = np.asarray(out.getchannel("A"))
    assert out.mode == "RGBA"
    assert a[:, : 18 * f].max() == 0 and a[:, 22 * f :].min() == 255


def test_upscale_refuses_oversized_output():
    with pytest.raises(UtilityError, match="too large"):
        upscale(Image.new("RGB", (1025, 1024)), "Real-ESRGAN")
    with pytest.raises(UtilityError, match="too large"):
        upscale(Image.new("RGB", (2049, 2048)), "Openjourney Redefine")
    with pytest.raises(UtilityError, match="Real-ESRGAN"):
        upscale(Image.new("RGB", (8, 8)), "Stable Diffusion x4")


def test_upscale_x4_of_1024_is_allowed(astronaut):
    big = astronaut.resize((1024, 1024), Image.Resampling.LANCZOS)
    out = upscale(big, "Real-ESRGAN")
    assert out.size == (4096, 4096)  # exactly at the limit is fine


# --------------------------------------------------------------------- prompt extract


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((230, 20, 20), "red"),
        ((20, 40, 230), "blue"),
        ((30, 150, 40), "green"),
        ((250, 235, 30), "yellow"),
        ((250, 140, 10), "orange"),
        ((130, 40, 170), "purple"),
        ((255, 255, 255), "white"),
        ((5, 5, 5), "black"),
    ],
)
def test_extract_prompt_names_a_solid_colour(rgb, name):
    prompt = extract_prompt(Image.new("RGB", (80, 60), rgb))
    found = words(prompt.replace("black and white", ""))  # a style, not a colour
    assert name in found
    others = {"red", "blue", "green", "yellow", "orange", "purple", "white", "black"} - {name}
    assert not (found & others), prompt


def test_extract_prompt_names_both_colours_of_a_two_tone_image():
    canvas = np.zeros((100, 200, 3), np.uint8)
    canvas[:, :100] = (20, 40, 230)
    canvas[:, 100:] = (250, 235, 30)
    found = words(extract_prompt(Image.fromarray(canvas)))
    assert {"blue", "yellow"} <= found
    assert not found & {"red", "green", "purple", "orange"}
    assert "wide" in found


def test_extract_prompt_describes_the_astronaut_as_a_portrait(astronaut):
    prompt = extract_prompt(astronaut)
    assert "portrait of a person" in prompt
    assert "orange" in words(prompt)  # the suit
    assert "square format" in prompt


def test_extract_prompt_on_photos_without_faces(coffee):
    prompt = extract_prompt(coffee)
    assert "portrait" not in prompt and "person" not in prompt
    assert "brown" in words(prompt)
    assert "photograph" in prompt and "wide format" in prompt
    grey = extract_prompt(coffee.convert("L"))
    assert "black and white" in grey


def test_extract_prompt_ignores_hidden_pixels_of_a_cut_out():
    cut_out = Image.new("RGBA", (100, 100), (0, 0, 0, 0))  # black, but invisible
    cut_out.paste((250, 140, 10, 255), (30, 30, 70, 70))
    prompt = extract_prompt(cut_out)
    assert "orange" in words(prompt) and "black" not in words(prompt)
    assert "subject on a plain background" in prompt


def test_extract_prompt_sees_a_horizon_and_flat_art():
    canvas = np.zeros((200, 300, 3), np.uint8)
    canvas[:90] = (120, 180, 235)  # sky
    canvas[90:] = (40, 140, 50)  # field
    prompt = extract_prompt(Image.fromarray(canvas))
    assert "landscape" in prompt and "horizon" in prompt
    assert "flat illustration" in prompt


OJ_PROMPT = "a lighthouse at dusk, oil painting"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("openjourney", json.dumps({"prompt": OJ_PROMPT, "seed": 4}), OJ_PROMPT),
        ("openjourney", json.dumps({"recipe": {"prompt": OJ_PROMPT}}), OJ_PROMPT),
        (
            "parameters",
            "a cat in a hat,\nwatercolor\nNegative prompt: blurry, lowres\n"
            "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512",
            "a cat in a hat,\nwatercolor",
        ),
        ("parameters", "a red fox\nSteps: 30, Sampler: DPM++ 2M, Seed: 9", "a red fox"),
        (
            "invokeai_metadata",
            json.dumps({"positive_prompt": "a castle on a hill", "negative_prompt": "x"}),
            "a castle on a hill",
        ),
    ],
)
def test_embedded_prompt_wins(key, value, expected):
    data = png_bytes(Image.new("RGB", (16, 16), "red"), **{key: value})
    image = open_image(data)  # through the real decoder: text chunks must survive
    assert read_embedded_prompt(image) == expected
    assert extract_prompt(image) == expected
    # Straight from Pillow, too.
    assert read_embedded_prompt(Image.open(io.BytesIO(data))) == expected


def test_embedded_prompt_in_compressed_and_international_chunks():
    info = PngImagePlugin.PngInfo()
    info.add_itxt("openjourney", json.dumps({"prompt": "ein Haus am See, Öl"}), zip=True)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG", pnginfo=info)
    assert read_embedded_prompt(open_image(buf.getvalue())) == "ein Haus am See, Öl"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a zTXt prompt\nSteps: 5", zip=True)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG", pnginfo=info)
    assert read_embedded_prompt(open_image(buf.getvalue())) == "a zTXt prompt"


@pytest.mark.parametrize(
    "chunks",
    [
        {"openjourney": "{not json"},
        {"openjourney": json.dumps(["a", "list"])},
        {"openjourney": json.dumps({"prompt": 42})},
        {"openjourney": json.dumps({"recipe": "flat string"})},
        {"openjourney": json.dumps({"prompt": "   "})},
        {"parameters": "Negative prompt: only a negative\nSteps: 20"},
        {"parameters": ""},
        {"invokeai_metadata": "{broken"},
        {"invokeai_metadata": json.dumps({"positive_prompt": None})},
        {"invokeai_metadata": "[1, 2]"},
        {"openjourney": "[" * 5000 + "]" * 5000},
    ],
)
def test_malformed_chunks_are_ignored(chunks):
    image = open_image(png_bytes(Image.new("RGB", (32, 32), (20, 40, 230)), **chunks))
    assert read_embedded_prompt(image) is None
    assert "blue" in words(extract_prompt(image))  # falls back to the pixels


def test_a_malformed_chunk_does_not_hide_a_good_one():
    data = png_bytes(
        Image.new("RGB", (8, 8)),
        openjourney="{oops",
        parameters="good prompt\nSteps: 1",
        invokeai_metadata=json.dumps({"positive_prompt": "later"}),
    )
    assert read_embedded_prompt(open_image(data)) == "good prompt"


# ------------------------------------------------------------------------- open_image


@pytest.mark.parametrize("data", [b"", b"hello, world", b"GIF89a" + b"\0" * 20, b"\x89PNG\r\n"])
def test_open_image_refuses_non_images(data):
    with pytest.raises(UtilityError, match=r"^The file is not an image\.$"):
        open_image(data)


def test_open_image_refuses_non_bytes():
    with pytest.raises(UtilityError):
        open_image("astronaut.png")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_open_image_refuses_truncated_files(astronaut, fmt):
    buf = io.BytesIO()
    astronaut.save(buf, fmt)
    data = buf.getvalue()
    with pytest.raises(UtilityError, match="damaged or truncated"):
        open_image(data[: len(data) * 2 // 3])


def test_open_image_refuses_decompression_bombs():
    # Beyond Pillow's own limit (its DecompressionBombError is translated) ...
    with pytest.raises(UtilityError, match=r"too large: 900,000,000 pixels \(limit 40,000,000"):
        open_image(png_header_only(30_000, 30_000))
    # ... below Pillow's limit but above ours: refused from the header, nothing decoded.
    with pytest.raises(UtilityError, match=r"too large: 49,000,000 pixels"):
        open_image(png_header_only(7_000, 7_000))
    # A real, highly compressible image (about 45 KB for 45 megapixels).
    buf = io.BytesIO()
    Image.new("L", (9000, 5000)).save(buf, "PNG")
    assert len(buf.getvalue()) < 100_000
    with pytest.raises(UtilityError, match="too large"):
        open_image(buf.getvalue())
    with pytest.raises(UtilityError, match=r"limit 1,000\)"):
        open_image(png_bytes(Image.new("RGB", (40, 40))), max_pixels=1000)


def test_open_image_applies_exif_orientation():
    image = Image.new("RGB", (40, 20), (230, 20, 20))
    image.paste((20, 40, 230), (20, 0, 40, 20))  # left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif, quality=95)
    out = open_image(buf.getvalue())
    assert out.size == (20, 40)
    top, bottom = out.getpixel((10, 5)), out.getpixel((10, 35))
    assert top[0] > 180 and top[2] < 80  # red went to the top
    assert bottom[2] > 180 and bottom[0] < 80


def test_open_image_converts_modes():
    def saved(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
        buf = io.BytesIO()
        image.save(buf, fmt, **kw)
        return buf.getvalue()

    palette = Image.new("P", (8, 8), 3)
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
    assert open_image(saved(palette)).mode == "RGB"
    assert open_image(saved(palette, transparency=3)).mode == "RGBA"
    assert open_image(saved(Image.new("L", (8, 8), 77))).mode == "RGB"
    la = open_image(saved(Image.new("LA", (8, 8), (77, 10))))
    assert la.mode == "RGBA" and la.getpixel((0, 0)) == (77, 77, 77, 10)
    cmyk = open_image(saved(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG"))
    assert cmyk.mode == "RGB" and cmyk.getpixel((4, 4))[0] > 200
    deep = Image.fromarray(np.full((8, 8), 65535, np.uint16))
    opened = open_image(saved(deep))
    assert opened.mode == "RGB" and opened.getpixel((0, 0)) == (255, 255, 255)
    assert open_image(saved(Image.new("RGBA", (8, 8)))).mode == "RGBA"
    gif = open_image(saved(Image.new("P", (5, 5)), "GIF"))
    assert gif.mode in ("RGB", "RGBA") and gif.size == (5, 5)


# ------------------------------------------------------------- every function, any input


def _make(mode: str, size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(size[0] * 31 + size[1])
    rgb = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    if mode == "RGBA":
        rgba = rgb.convert("RGBA")
        rgba.putalpha(128)
        return rgba
    if mode == "LA":
        return rgb.convert("L").convert("LA")
    return rgb.convert(mode)


def _upscaler(model: str):
    return lambda im: upscale(im, model)


ALL_FUNCTIONS = {
    "clarify-denoise": lambda im: clarify(im, "Image Denoising"),
    "clarify-reds": lambda im: clarify(im, "Image Debluring (REDS)"),
    "clarify-gopro": lambda im: clarify(im, "Image Debluring (GoPro)"),
    "face_restore": face_restore,
    "remove_background": remove_background,
    **{model: _upscaler(model) for model in UPSCALE_MODELS},
    "extract_prompt": extract_prompt,
}


@pytest.mark.parametrize("size", [(1, 1), (8, 8), (1, 9)])
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "LA", "CMYK", "1", "I;16"])
def test_every_function_survives_tiny_images_in_any_mode(mode, size):
    image = _make(mode, size)
    before = image.tobytes()
    for name, fn in ALL_FUNCTIONS.items():
        out = fn(image)
        if name == "extract_prompt":
            assert isinstance(out, str) and out
            continue
        assert out.mode in ("RGB", "RGBA"), name
        factor = UPSCALE_MODELS[name].factor if name in UPSCALE_MODELS else 1
        assert out.size == (size[0] * factor, size[1] * factor), name
        if name == "remove_background":
            assert out.mode == "RGBA"
    with pytest.raises(NoFaceFound):
        face_swap(image, image)
    assert image.tobytes() == before  # never mutated


@pytest.mark.parametrize("bad", [None, b"png bytes", np.zeros((4, 4, 3), np.uint8)])
def test_non_images_are_refused_with_a_utility_error(bad):
    for fn in ALL_FUNCTIONS.values():
        with pytest.raises(UtilityError):
            fn(bad)
    with pytest.raises(UtilityError):
        face_swap(bad, bad)
    with pytest.raises(UtilityError):
        read_embedded_prompt(bad)


def test_everything_is_deterministic_and_leaves_the_input_alone(astronaut):
    image = astronaut.resize((160, 160), Image.Resampling.LANCZOS)
    target = ImageOps.mirror(image)
    before = image.tobytes()
    calls = [*ALL_FUNCTIONS.values(), lambda im: face_swap(im, target)]

    def run_all(seed: int) -> list[bytes | str]:
        # Different global OpenCV RNG states: grabCut's k-means++ must not depend on them.
        cv2.setRNGSeed(seed)
        results = [fn(image) for fn in calls]
        return [r if isinstance(r, str) else r.tobytes() for r in results]

    assert run_all(1) == run_all(2)
    assert image.tobytes() == before
