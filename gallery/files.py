"""Stored files as responses: the one place their headers are decided."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def file_response(name: str, content_type: str, *, download_name: str | None = None):
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is missing.") from None
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=download_name is not None,
        filename=download_name or "",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    # Opened on its own, a file (an SVG above all) may not run or load anything, and is
    # sandboxed: a unique origin, no access to the studio's cookies or pages.
    response["Content-Security-Policy"] = MEDIA_CSP
    return response
