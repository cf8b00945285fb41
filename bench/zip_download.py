"""Zip download of gallery images: first byte and server memory, streamed against in memory.

    .venv/bin/python bench/zip_download.py [--images 500] [--image-kb 1024] [--database-url URL]

Seeds ``--images`` gallery images of ``--image-kb`` each (random bytes, as incompressible as
real PNGs; one file per image) on a fresh database, starts the web server (uvicorn) and a
worker as `make run` does, signs in, and downloads all of them as one zip, twice:

- the studio's ``/gallery/zip?ids=…``: the archive streamed while it is written;
- the baseline, in the same run and the same server: ``/bench/zip-in-memory?ids=…``
  (bench/zip_baseline_urls.py), the same archive built whole in memory, then sent.

For each: time to the response headers and to the first byte of the body, the whole
download (MB/s), and the web server's resident memory (VmRSS) sampled every 10 ms from just
before the request to the end: before, peak, and growth. The streamed archive is checked
(every image and recipes.json in it). The target and the figures: docs/performance.md,
"Zip download".
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path

from _setup import BASE_DIR, header, rss_mb, setup_django, sign_in

TARGET_FIRST_BYTE_MS = 200


def seed_images(count: int, size: int) -> list[int]:
    """``count`` images of the user "bench", each its own file of ``size`` random bytes."""
    import hashlib

    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from gallery.models import Image

    owner = get_user_model().objects.get(username="bench")
    rows = []
    for number in range(count):
        content = os.urandom(size)
        name = default_storage.save(f"images/bench/{number:04d}.png", ContentFile(content))
        rows.append(
            Image(
                owner=owner,
                endpoint="flux/schnell",
                prompt=f"a lighthouse at dawn, number {number}",
                params={"canvas": "Square"},
                seed=number,
                file=name,
                thumbnail="",
                content_type="image/png",
                format="png",
                width=1024,
                height=1024,
                size_bytes=size,
                checksum=hashlib.sha256(content).hexdigest(),
                placeholder="#5a78c8",
                created_at=timezone.now(),
            )
        )
    Image.objects.bulk_create(rows)
    return list(Image.objects.filter(owner=owner).values_list("pk", flat=True))


class MemorySampler(threading.Thread):
    """The resident memory of one process, every ``interval`` seconds, until stopped."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[float] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append(rss_mb(self.pid))
            time.sleep(self.interval)

    def stop(self) -> list[float]:
        self._stop_event.set()
        self.join()
        return self.samples


def download(client, url: str, web_pid: int, keep: Path | None) -> dict:
    before = rss_mb(web_pid)
    sampler = MemorySampler(web_pid)
    sampler.start()
    started = time.perf_counter()
    size = 0
    first_byte = None
    sink = keep.open("wb") if keep else None
    with client.stream("GET", url) as response:
        headers_at = time.perf_counter()
        if response.status_code != 200:
            raise RuntimeError(f"{url[:60]}…: HTTP {response.status_code}")
        for chunk in response.iter_raw():
            if first_byte is None and chunk:
                first_byte = time.perf_counter()
            size += len(chunk)
            if sink:
                sink.write(chunk)
    ended = time.perf_counter()
    if sink:
        sink.close()
    samples = sampler.stop()
    peak = max([before, *samples])
    return {
        "headers_ms": (headers_at - started) * 1000,
        "first_byte_ms": ((first_byte or ended) - started) * 1000,
        "total_s": ended - started,
        "mb": size / 1e6,
        "rss_before": before,
        "rss_peak": peak,
        "rss_growth": peak - before,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--image-kb", type=int, default=1024, help="size of each image file")
    parser.add_argument("--database-url", default=None, help="an empty database to use")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    print(header("python bench/zip_download.py " + " ".join(sys.argv[1:])))
    logging.getLogger("httpx").setLevel(logging.WARNING)

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    workdir = setup_django(args.database_url, queue)
    from django.db import connection

    from tests.factories import UserFactory
    from tests.stack import start_stack

    UserFactory(username="bench", password="bench-password-123")
    ids = seed_images(args.images, args.image_kb * 1024)
    query = "&".join(f"ids={pk}" for pk in ids)
    stack = start_stack(
        dict(connection.settings_dict),
        args.redis_url,
        workdir,
        queue=queue,
        extra_env={
            "DJANGO_SETTINGS_MODULE": "bench.zip_baseline_settings",
            "PYTHONPATH": str(BASE_DIR),
        },
    )
    web_pid = stack.processes[0].pid
    results = {}
    try:
        client = sign_in(stack.url, "bench", "bench-password-123")
        client.get("/gallery/")  # the server's first page: imports and caches warm
        time.sleep(1)
        with tempfile.TemporaryDirectory() as folder:
            kept = Path(folder) / "streamed.zip"
            results["streamed (/gallery/zip)"] = download(
                client, f"/gallery/zip?{query}", web_pid, kept
            )
            with zipfile.ZipFile(kept) as archive:
                names = archive.namelist()
                bad = archive.testzip()
            if len(names) != len(ids) + 1 or "recipes.json" not in names or bad:
                raise RuntimeError(f"the streamed zip is wrong: {len(names)} entries, bad {bad}")
        time.sleep(1)
        results["baseline: built in memory"] = download(
            client, f"/bench/zip-in-memory?{query}", web_pid, None
        )
        client.close()
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # the images: hundreds of MB

    print(
        f"\n{len(ids)} images of {args.image_kb:,} KB; web server memory (VmRSS) sampled every "
        "10 ms\n"
    )
    print(
        f"{'':<26} {'headers ms':>10} {'1st byte ms':>11} {'total s':>8} {'MB':>7} "
        f"{'MB/s':>6} {'RSS before':>10} {'peak':>7} {'growth MB':>9}"
    )
    for name, r in results.items():
        print(
            f"{name:<26} {r['headers_ms']:>10.0f} {r['first_byte_ms']:>11.0f} "
            f"{r['total_s']:>8.2f} {r['mb']:>7.0f} {r['mb'] / r['total_s']:>6.0f} "
            f"{r['rss_before']:>10.0f} {r['rss_peak']:>7.0f} {r['rss_growth']:>9.1f}"
        )
    streamed = results["streamed (/gallery/zip)"]
    fast = streamed["first_byte_ms"] <= TARGET_FIRST_BYTE_MS
    print(f"\ntarget first byte ≤ {TARGET_FIRST_BYTE_MS} ms: {'PASS' if fast else 'FAIL'}")
    print(
        f"memory: streamed grew {streamed['rss_growth']:.1f} MB for a "
        f"{streamed['mb']:.0f} MB archive; in memory grew "
        f"{results['baseline: built in memory']['rss_growth']:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
