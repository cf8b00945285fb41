"""SVG results are kept as SVG, sanitised: no scripts, no event handlers, no outside links."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ALLOWED_TAGS = {
    "svg", "g", "defs", "title", "desc", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "linearGradient", "radialGradient", "stop",
    "clipPath", "mask", "pattern", "symbol", "use", "filter", "feGaussianBlur",
    "feOffset", "feBlend", "feColorMatrix", "feMerge", "feMergeNode", "feFlood",
    "feComposite", "feTurbulence", "feDisplacementMap", "style",
}  # fmt: skip
_URL_IN_CSS = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.I)


class UnsafeSvg(ValueError):
    """Not an SVG document we can keep."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def is_svg_document(data: bytes) -> bool:
    """Whether ``data`` parses as XML whose root element is ``<svg>``.

    Parsed only as far as the root's start tag: whether the rest is well-formed and safe is
    ``sanitise_svg``'s to say (with its reasons)."""
    if data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] != b"<":
        return False
    parser = ET.XMLPullParser(events=("start",))
    try:
        for offset in range(0, len(data), 4096):
            parser.feed(data[offset : offset + 4096])
            for _event, element in parser.read_events():
                return _local(element.tag) == "svg"
    except ET.ParseError:
        return False
    return False


def sanitise_svg(data: bytes) -> bytes:
    """A cleaned copy of an SVG document, or UnsafeSvg when it is not one."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise UnsafeSvg("The SVG declares a DTD or entities, which the studio refuses.")
    try:
        root = ET.fromstring(data)  # noqa: S314 (no DTD, so no entity expansion)
    except ET.ParseError as exc:
        raise UnsafeSvg(f"The SVG is not well-formed XML ({exc}).") from None
    if _local(root.tag) != "svg":
        raise UnsafeSvg("The file is XML but not an SVG document.")
    _clean(root)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _clean(element: ET.Element) -> None:
    for child in list(element):
        if _local(child.tag) not in ALLOWED_TAGS:
            element.remove(child)
            continue
        _clean(child)
    for name in list(element.attrib):
        local = _local(name).lower()
        value = element.attrib[name]
        if (
            local.startswith("on")
            or (local == "href" and not value.strip().startswith("#"))
            or (local == "style" and _URL_IN_CSS.search(value))
        ):
            del element.attrib[name]
    if (
        _local(element.tag) == "style"
        and element.text
        and (_URL_IN_CSS.search(element.text) or "@import" in element.text.lower())
    ):
        element.text = ""
