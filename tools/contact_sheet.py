"""Render a list of prompts across endpoints and styles into one contact sheet PNG, to
look at: can a person name each prompt's subject at a glance?

    .venv/bin/python tools/contact_sheet.py [--out contact_sheet.png] [--size 256]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import resvg_py
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.render.svg import render_svg
from engine.render.text_to_image import render_image

GEN = "re-craft/generative"
SVG = "re-craft/svg"
# (endpoint, prompt, extra params): animals, buildings, vehicles, food, people, objects,
# several subjects, counts and colours bound to nouns, across families and styles.
PROMPTS: list[tuple[str, str, dict]] = [
    ("flux/dev", "a red fox in a snowy forest at dawn", {}),
    ("flux/dev", "three cats in a meadow", {}),
    ("flux/schnell", "a dog chasing a cat on a lawn", {}),
    ("flux/1.1/pro", "a horse by a lake at sunset", {}),
    ("flux/1.1/pro-ultra", "an elephant in the desert", {}),
    ("sdxl/generative", "a pair of swans on a lake", {}),
    ("sdxl/pony", "a cute panda", {}),
    ("flux/ghibsky", "a castle on a hill", {}),
    ("flux/dev", "a lighthouse on a cliff by the sea", {}),
    ("flux/cinema", "a house in a rainy street at night", {}),
    ("sd/3.5", "a skyscraper at noon", {}),
    ("flux/dev", "a church in a snowy village", {}),
    ("flux/dev", "a blue bicycle", {}),
    ("flux/1.1/pro", "a red car on a country road", {}),
    ("sdxl/generative", "a sailboat on the ocean", {}),
    ("flux/dev", "a hot air balloon over mountains", {}),
    ("flux/dev", "an airplane over the sea", {}),
    ("flux/dev", "a steam train in the mountains", {}),
    ("flux/dev", "a cup of coffee", {}),
    ("flux/dev", "an avocado", {}),
    ("sdxl/generative", "a slice of pizza", {}),
    ("flux/dev", "a birthday cake", {}),
    ("flux/dev", "a bowl of ramen", {}),
    ("flux/dev", "five red apples", {}),
    ("flux/dev", "portrait of an old man with a beard", {}),
    ("flux/dev", "portrait of a woman", {}),
    ("flux/dev", "an astronaut on the moon", {}),
    ("flux/dev", "a robot in a city", {}),
    ("flux/dev", "a guitar", {}),
    ("flux/dev", "a green umbrella in the rain", {}),
    ("flux/dev", "a candle at night", {}),
    ("flux/dev", "a blue door", {}),
    ("flux/black-light", "a neon jellyfish in a dark ocean", {}),
    ("flux/dev", "three fish under the sea", {}),
    ("flux/dev", "an octopus and a crab underwater", {}),
    ("flux/dev", "two penguins on the ice", {}),
    (GEN, "a cat", {"style": "digital_illustration/pixel_art"}),
    (GEN, "a castle", {"style": "realistic_image/b_and_w"}),
    (GEN, "a fox", {"style": "digital_illustration/watercolor"}),
    (GEN, "a sailboat", {"style": "digital_illustration/engraving_color"}),
    (GEN, "a bicycle in a park", {"style": "digital_illustration/hand_drawn"}),
    (GEN, "an owl in a forest at night", {"style": "digital_illustration"}),
    ("sdxl/emoji", "an avocado", {}),
    ("sdxl/emoji", "a happy face", {}),
    ("flux/dev", "portrait of a child", {}),
    ("flux/dev", "portrait of a man with a moustache", {}),
    (SVG, "a fox at sunset", {"style": "line_art"}),
    (SVG, "a sailboat on the sea", {"style": "engraving"}),
    (SVG, "a black cat", {"style": "linocut"}),
    (SVG, "a red car", {"style": "line_circuit"}),
]


def _render(endpoint: str, params: dict, size: int) -> Image.Image:
    if endpoint == SVG:  # rasterised as a browser would show it
        svg = render_svg(params, (size, size))
        return Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg))))
    return render_image(endpoint, params, (size, size))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="contact_sheet.png")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--cols", type=int, default=6)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    n, size, cols = len(PROMPTS), args.size, args.cols
    label = 30
    rows = (n + cols - 1) // cols
    sheet = Image.new("RGB", (cols * size, rows * (size + label)), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    t0 = time.perf_counter()
    for i, (endpoint, prompt, extra) in enumerate(PROMPTS):
        params = {"prompt": prompt, "seed": args.seed, **extra}
        image = _render(endpoint, params, size)
        if image.mode == "RGBA":
            back = Image.new("RGBA", image.size, (235, 235, 240, 255))
            image = Image.alpha_composite(back, image)
        x, y = (i % cols) * size, (i // cols) * (size + label)
        sheet.paste(image.convert("RGB"), (x, y))
        tag = extra.get("style", endpoint).split("/")[-1]
        draw.text((x + 4, y + size + 2), prompt[:40], fill=(235, 235, 235))
        draw.text((x + 4, y + size + 15), tag, fill=(150, 150, 160))
    sheet.save(args.out)
    print(f"{n} prompts in {time.perf_counter() - t0:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
