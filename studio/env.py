"""Small helpers that read settings from the environment, with local defaults."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from studio.secret_key import read_or_create_key_file

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """The variable's value, or ``default`` when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    return value if value else default


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off, anything else is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no.")


def env_int(name: str, default: int) -> int:
    """An integer variable."""
    raw = env_str(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list, blanks dropped."""
    raw = env_str(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret_key(name: str, *, key_file: Path, debug: bool) -> str:
    """The site's secret key: the variable ``name``, else the one kept in ``key_file``.

    `make run` writes that file on first start; in debug it is made on first use. Outside
    debug a missing key is an error: no key is built into the code, for anyone to sign with.
    """
    value = env_str(name)
    if value is not None:
        return value
    if debug or Path(key_file).exists():
        return read_or_create_key_file(key_file)
    raise ImproperlyConfigured(
        f"{name} must be set when DEBUG is off (or kept in {key_file}, which `make run` "
        "writes). Generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )


def env_json(name: str, default: object) -> object:
    """A JSON value (for structured settings such as the engine's fault list)."""
    import json

    raw = env_str(name)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}") from None


def env_mapping(name: str) -> dict[str, str]:
    """A JSON object of strings, e.g. ``{"flux/*": "/models/flux"}``; unset: empty."""
    value = env_json(name, {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ImproperlyConfigured(f"{name} must be a JSON object of strings.")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (compared lower-case)."""
    value = (env_str(name, default) or default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


_INSTANCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def default_instance_name(data_dir: Path) -> str:
    """An installation's name on a shared Redis: a short hash of its data folder's absolute
    path, so two checkouts on one machine differ and every process of one agrees."""
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:10]
    return f"studio-{digest}"


def env_instance(name: str, data_dir: Path) -> str:
    """``name`` (STUDIO_INSTANCE) if set, else the data folder's default; it names queues
    and Redis keys, so only letters, digits, ``.``, ``_`` and ``-``."""
    value = env_str(name) or default_instance_name(data_dir)
    if not _INSTANCE_NAME.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name}={value!r}: use 1-63 letters, digits, '.', '_' or '-' "
            "(a letter or digit first)."
        )
    return value
