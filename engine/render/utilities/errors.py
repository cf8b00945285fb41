"""The utilities' errors: each ends a job, with a message fit to show a user (``str(exc)``)."""

from __future__ import annotations


class UtilityError(Exception):
    """A job-ending failure with a user-readable message (``str(exc)``)."""


class NoFaceFound(UtilityError):
    """No face could be found in one of the images."""
