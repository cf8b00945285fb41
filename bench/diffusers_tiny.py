"""The diffusers backend on tiny random pipelines: load time and time per image.

    .venv/bin/python bench/diffusers_tiny.py                 # 5 images a row, 4 steps
    .venv/bin/python bench/diffusers_tiny.py --runs 9 --threads 1 --steps 4

Needs the extra (`make diffusers`). Builds a tiny SD, SDXL and FLUX pipeline (random
weights; see engine/diffusion/tiny.py) in a temporary folder, then for each:

load        DiffusionPipeline.from_pretrained of the folder, in a fresh process each time
            (so no file cache of the library is warm beyond the OS's), median of --runs.
image       engine.diffusion.pipelines.generate (what the worker runs: scheduler, seed,
            size, the step callback) for each size, median and slowest of --runs after one
            warm-up; and the PNG encode of the result, as the worker stores it.

The tiny models say what the backend itself costs around a pipeline (and how CPU time
grows with the size), not what a real model takes: see docs/diffusers.md.
Speed is measured here, never in tests (DEVELOPERS.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import header

SIZES = ((64, 64), (256, 256), (512, 512), (1024, 1024))
SLUGS = {"sd": "sd/1/generative", "sdxl": "sdxl/pony", "flux": "flux/dev"}

LOAD_CODE = """
import os, sys, time
os.environ["HF_HUB_OFFLINE"] = "1"
import torch
torch.set_num_threads(int(sys.argv[2]) or torch.get_num_threads())
from diffusers import DiffusionPipeline
from diffusers.utils import logging
logging.disable_progress_bar()
started = time.perf_counter()
DiffusionPipeline.from_pretrained(sys.argv[1], local_files_only=True)
print(time.perf_counter() - started)
"""


def load_seconds(folder: Path, threads: int) -> float:
    result = subprocess.run(
        [sys.executable, "-c", LOAD_CODE, str(folder), str(threads)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    os.environ["ENGINE_DIFFUSERS_DEVICE"] = "cpu"
    os.environ["ENGINE_DIFFUSERS_STEPS"] = str(args.steps)
    os.environ["ENGINE_DIFFUSERS_THREADS"] = str(args.threads)
    import warnings

    warnings.filterwarnings("ignore")
    import django

    django.setup()
    import diffusers  # noqa: F401 (imported before the clock starts: a cold import is seconds)
    import torch

    from engine.diffusion import pipelines, tiny

    if args.threads:
        torch.set_num_threads(args.threads)
    from engine.render.png import encode_png

    pipelines._record = lambda *a, **k: None  # no database here: ping is not measured
    command = "bench/diffusers_tiny.py " + " ".join(sys.argv[1:])
    print(header(command.strip()))
    print(
        f"# torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"device cpu, {args.steps} steps, seed fixed, median of {args.runs}"
    )
    root = Path(tempfile.mkdtemp(prefix="diffusers-tiny-"))
    load_rows, image_rows = [], []
    for kind in tiny.KINDS:
        started = time.perf_counter()
        tiny.build(kind, root / kind)
        build = time.perf_counter() - started
        loads = [load_seconds(root / kind, args.threads) for _ in range(args.runs)]
        loaded = pipelines.get_pipeline(root / kind)
        name = f"{kind} ({loaded.pipeline})"
        load_rows.append(
            f"| {name} | {build * 1000:,.0f} ms | {statistics.median(loads) * 1000:,.0f} ms |"
        )
        for size in SIZES:
            params = {"prompt": "a red fox in the snow", "seed": 7}
            pipelines.generate(root / kind, SLUGS[kind], params, size)  # warm-up
            times, encodes = [], []
            for _ in range(args.runs):
                started = time.perf_counter()
                image = pipelines.generate(root / kind, SLUGS[kind], params, size)
                times.append(time.perf_counter() - started)
                started = time.perf_counter()
                encode_png(image)
                encodes.append(time.perf_counter() - started)
            image_rows.append(
                f"| {name} | {size[0]} × {size[1]} | {statistics.median(times) * 1000:,.0f} ms "
                f"| {max(times) * 1000:,.0f} ms | {statistics.median(encodes) * 1000:,.0f} ms |"
            )
    print("\n| pipeline | build and save | load (fresh process) |")
    print("| --- | --- | --- |")
    print("\n".join(load_rows))
    print("\n| pipeline | size | image, median | slowest | PNG encode |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(image_rows))


if __name__ == "__main__":
    main()
