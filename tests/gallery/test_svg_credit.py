"""The engine's SVG credits its drawings (CC BY-SA 4.0); the gallery's copy keeps the credit."""

from __future__ import annotations

from engine.render.svg import SVG_STYLES, render_svg
from gallery.svg import sanitise_svg


def test_the_subjects_credit_survives_the_gallerys_sanitiser() -> None:
    for style in SVG_STYLES:
        document = render_svg({"prompt": "a fox at sunset", "style": style, "seed": 5}, (512, 512))
        assert "OpenMoji" in document, style
        kept = sanitise_svg(document.encode()).decode()
        assert "OpenMoji" in kept and "CC BY-SA 4.0" in kept, style
