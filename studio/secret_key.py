"""The installation's secret key kept in a file: made once, random, readable by its owner only.

Shared by the settings (studio/env.py, which reads it in every process) and `make run`'s
launcher (which makes it on first start, before any process reads it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def read_or_create_key_file(path: Path) -> str:
    """The secret kept in ``path``, made there on first use: random (50 url-safe bytes),
    written mode 600 and put in place with a hard link, which fails when the file exists,
    so processes starting together all end up with the one key that won."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp makes the file mode 600 before anything is written into it.
        handle, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        try:
            with os.fdopen(handle, "w") as draft_file:
                draft_file.write(secrets.token_urlsafe(50) + "\n")
            with contextlib.suppress(FileExistsError):  # another process was first
                os.link(draft, path)
        finally:
            os.unlink(draft)
    value = path.read_text().strip()
    if not value:
        raise ImproperlyConfigured(f"The secret key file {path} is empty.")
    return value
