"""The engine's PNG encoding, for the renderers' images and the utilities' results alike."""

from __future__ import annotations

import io

from PIL import Image
from PIL.PngImagePlugin import PngInfo

# Image.info keys a renderer sets that go into the file: the credit of the drawings it used.
CREDIT_KEYS = ("Copyright",)


def encode_png(image: Image.Image, text: dict[str, str] | None = None) -> bytes:
    """PNG bytes (zlib level 1: fast and deterministic), with optional tEXt/iTXt chunks,
    and the image's own credit (``image.info["Copyright"]``) when it has one."""
    info = None
    credit = {k: image.info[k] for k in CREDIT_KEYS if isinstance(image.info.get(k), str)}
    text = {**credit, **(text or {})}
    if text:
        info = PngInfo()
        for k, v in text.items():
            info.add_text(str(k), str(v))  # falls back to iTXt for non-Latin-1 values
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1, pnginfo=info)
    return buf.getvalue()
