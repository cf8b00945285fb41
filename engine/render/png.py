"""The engine's PNG encoding, for the renderers' images and the utilities' results alike."""

from __future__ import annotations

import io

from PIL import Image
from PIL.PngImagePlugin import PngInfo


def encode_png(image: Image.Image, text: dict[str, str] | None = None) -> bytes:
    """PNG bytes (zlib level 1: fast and deterministic), with optional tEXt/iTXt chunks."""
    info = None
    if text:
        info = PngInfo()
        for k, v in text.items():
            info.add_text(str(k), str(v))  # falls back to iTXt for non-Latin-1 values
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1, pnginfo=info)
    return buf.getvalue()
