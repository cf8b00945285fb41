"""OpenAPI 3.1 document for the Openjourney REST API, built from ``openjourney.catalog``.

Request schemas describe what the engine accepts: ``null`` for an optional field means "not
given" (the catalog's rule), and ``42.0`` is an integer (as in JSON Schema itself). Responses
list every status the engine answers for a request, except 405 (a method the path does not
take) and the answers of faults switched on on purpose.
"""

from __future__ import annotations

import re
from typing import Any

from openjourney.catalog import (
    ENDPOINTS,
    EXTENSION_ENDPOINTS,
    JOB_STATUSES,
    Endpoint,
    Family,
    Field,
    FieldKind,
    Output,
)

__all__ = ["openapi_document", "operation_id", "request_schema_name"]

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"

_JSON_TYPES = {
    FieldKind.STRING: "string",
    FieldKind.INTEGER: "integer",
    FieldKind.NUMBER: "number",
    FieldKind.BOOLEAN: "boolean",
    FieldKind.IMAGE: "string",
}

_OUTPUT_NOTES = {
    Output.PNG: "On success `output` is the URL of a PNG image.",
    Output.SVG: "On success `output` is the URL of an SVG image.",
    Output.TEXT: "On success `output` is the extracted prompt, as text.",
    Output.JSON: "",
}

_FAMILY_DESCRIPTIONS = {
    Family.FLUX: "FLUX text-to-image models.",
    Family.RECRAFT: "Re-Craft raster and vector (SVG) models.",
    Family.SDXL: "Stable Diffusion XL models.",
    Family.SD: "Stable Diffusion models.",
    Family.UTILITIES: "Image utilities; their image inputs are URLs the service fetches.",
    Family.JOB: "Jobs: every POST returns one at once; poll it until it finishes.",
    Family.INTERNAL: "Service information.",
}


_PLACEHOLDER = re.compile(r"\{\w+\}")
PING_PATH = "/v1/internal/ping"

# JSON Schema patterns are ECMA-262 regular expressions, whose \s is not the set of characters
# Python's str.isspace() accepts, and validate() uses the latter (blank prompts, links with
# spaces). So the characters are spelled out: these are exactly those of str.isspace().
PYTHON_SPACE_CHARACTERS = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# What validate() refuses anywhere in a link: whitespace as above, C0 controls and DEL.
_URL_REFUSED = r"\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Characters whose NFKC form holds one of / ? # @ : -- urllib refuses them in a host
# (CVE-2019-9636), so the engine's check does too. Python 3.11's Unicode 14 list.
NETLOC_NFKC_REFUSED = (
    r"\u2047-\u2049\u2100\u2101\u2105\u2106\u2a74\ufe13\ufe16\ufe55\ufe56\ufe5f\ufe6b"
    r"\uff03\uff0f\uff1a\uff1f\uff20"
)
_HEX = "[0-9A-Fa-f]{1,4}"
_IPV6 = "|".join(
    (
        rf"(?:{_HEX}:){{7}}{_HEX}",
        rf"(?:{_HEX}:){{1,7}}:",
        rf"(?:{_HEX}:){{1,6}}:{_HEX}",
        rf"(?:{_HEX}:){{1,5}}(?::{_HEX}){{1,2}}",
        rf"(?:{_HEX}:){{1,4}}(?::{_HEX}){{1,3}}",
        rf"(?:{_HEX}:){{1,3}}(?::{_HEX}){{1,4}}",
        rf"(?:{_HEX}:){{1,2}}(?::{_HEX}){{1,5}}",
        rf"{_HEX}:(?::{_HEX}){{1,6}}",
        rf":(?:(?::{_HEX}){{1,7}}|:)",
    )
)
_PORT = "0*(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_NETLOC_REFUSED = _URL_REFUSED + NETLOC_NFKC_REFUSED
# The engine's link check (catalog._is_http_url, on urllib.parse.urlsplit) as a pattern:
# http(s); optional user info up to the last @; a host that is a name or a bracketed IPv6
# address; an optional port up to 65535; then anything without whitespace or controls.
# Rarer forms the engine also takes are left out: an IPv6 zone or embedded IPv4, text after
# the "]" ("[::1]80"), brackets in the wrong order ("a][::1").
HTTP_URL_PATTERN = (
    "^[Hh][Tt][Tt][Pp][Ss]?://"
    rf"(?:[^/?#\[\]{_NETLOC_REFUSED}]*@)?"
    rf"(?:\[(?:{_IPV6})\]|[^/?#@\[\]:{_NETLOC_REFUSED}]+)"
    rf"(?::(?:{_PORT})?)?"
    rf"(?:[/?#][^{_URL_REFUSED}]*)?$"
)
# A required free-text field may not be blank: at least one character that is not a space.
NOT_BLANK_PATTERN = rf"[^{PYTHON_SPACE_CHARACTERS}]"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def request_schema_name(endpoint: Endpoint) -> str:
    """Component name of an endpoint's request body, e.g. ``Flux11ProUltraRequest``."""
    parts = re.split(r"[^A-Za-z0-9]+", _PLACEHOLDER.sub("", endpoint.slug))
    return "".join(part[:1].upper() + part[1:] for part in parts if part) + "Request"


def operation_id(endpoint: Endpoint) -> str:
    """Operation id, e.g. ``post_flux_1_1_pro_ultra`` or ``get_job`` for ``GET /v1/job/{id}``."""
    parts = re.split(r"[^A-Za-z0-9]+", _PLACEHOLDER.sub("", endpoint.slug))
    return "_".join([endpoint.method.lower(), *(p.lower() for p in parts if p)])


def _field_schema(field: Field) -> dict[str, Any]:
    json_type: str | list[str] = _JSON_TYPES[field.kind]
    if not field.required:
        # validate() reads null as "not given", so a client may send it for any optional field.
        json_type = [json_type, "null"]
    schema: dict[str, Any] = {
        "type": json_type,
        "title": field.label,
        "description": field.help,
    }
    if field.kind is FieldKind.IMAGE:
        # No "format": the engine takes more than "uri" allows (non-ASCII hosts and paths) and
        # more than "iri" allows ("|", a stray "%"); the pattern states exactly what it takes.
        schema["pattern"] = HTTP_URL_PATTERN
        schema["description"] += (
            ". An absolute http or https URL (non-ASCII allowed) that the service fetches."
        )
    if field.choices:
        # An enum lists every allowed value, so the null that "type" allows must be listed too.
        schema["enum"] = list(field.choices) if field.required else [*field.choices, None]
    if field.default is not None:
        schema["default"] = field.default
    if field.minimum is not None:
        schema["minimum"] = field.minimum
    if field.maximum is not None:
        schema["maximum"] = field.maximum
    if field.max_length is not None:
        schema["maxLength"] = field.max_length
    if field.required and field.kind is FieldKind.STRING and not field.choices:
        schema["pattern"] = NOT_BLANK_PATTERN
    return schema


def _request_schema(endpoint: Endpoint) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "title": f"{endpoint.display_title} request",
        "properties": {f.name: _field_schema(f) for f in endpoint.fields},
        "additionalProperties": False,
    }
    required = [f.name for f in endpoint.fields if f.required]
    if required:
        schema["required"] = required
    return schema


IDEMPOTENCY_KEY_MAX_LENGTH = 100


def _parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": param.name,
            "in": "path",
            "required": True,
            "description": param.help,
            "schema": {"type": _JSON_TYPES[param.kind]},
        }
        for param in endpoint.path_params
    ]
    if endpoint.method == "POST" and endpoint.fields:
        parameters.append(_ref("parameters", "IdempotencyKey"))
    return parameters


def _responses(endpoint: Endpoint) -> dict[str, Any]:
    if endpoint.family is Family.INTERNAL:
        ok = {
            "description": "A JSON object; the reference documents no fields for it.",
            "content": _json(_ref("schemas", "FreeForm")),
        }
    else:
        note = _OUTPUT_NOTES[endpoint.output]
        ok = {
            "description": f"The job. {note}".strip(),
            "content": _json(_ref("schemas", "Job")),
        }
    responses: dict[str, Any] = {"200": ok}
    if endpoint.fields:
        responses["400"] = _ref("responses", "BadRequest")
    responses["401"] = _ref("responses", "Unauthorized")
    if endpoint.path_params:
        responses["404"] = _ref("responses", "NotFound")
    if endpoint.fields:
        responses["413"] = _ref("responses", "PayloadTooLarge")
        responses["422"] = _ref("responses", "UnprocessableEntity")
    if endpoint.method == "POST":
        responses["429"] = _ref("responses", "TooManyRequests")
    if endpoint.path == PING_PATH:
        responses["503"] = {
            "description": "The engine runs but cannot reach its database (status `degraded`).",
            "content": _json(_ref("schemas", "FreeForm")),
        }
    return responses


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id(endpoint),
        "summary": endpoint.display_title,
        "description": endpoint.description,
        "tags": [endpoint.family.label],
    }
    parameters = _parameters(endpoint)
    if parameters:
        operation["parameters"] = parameters
    if endpoint.path == PING_PATH:
        # A health check: the engine answers it without a token (one is allowed, not needed).
        operation["security"] = [{}, {"bearerAuth": []}]
    if endpoint.fields:
        operation["requestBody"] = {
            "required": True,
            "content": _json(_ref("schemas", request_schema_name(endpoint))),
        }
    operation["responses"] = _responses(endpoint)
    operation["x-openjourney-output"] = endpoint.output.value
    if endpoint in EXTENSION_ENDPOINTS:
        operation["x-openjourney-extension"] = True
    return operation


def _nullable(json_type: str, **extra: Any) -> dict[str, Any]:
    return {"type": [json_type, "null"], **extra}


def _job_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"type": "string", "description": "Job identifier."},
        "status": {"type": "string", "enum": list(JOB_STATUSES)},
        "model": {"type": "string", "description": "Path of the endpoint that made the job."},
        "input": {
            "type": "object",
            "additionalProperties": True,
            "description": "The request body as the service accepted it.",
        },
        "output": _nullable(
            "string",
            description="On success: the URL of the result, or the text for prompt-extract.",
        ),
        "error": _nullable("string", description="On failure: what went wrong."),
        "seed": _nullable("integer", description="The seed used, for models that take one."),
        "created_at": _nullable("string", format="date-time"),
        "started_at": _nullable("string", format="date-time"),
        "completed_at": _nullable("string", format="date-time"),
        "metrics": _ref("schemas", "JobMetrics"),
    }
    # Replicate's links to the job, which the engine adds; optional, as the hosted service's
    # answers are not known to carry them.
    links = {
        "type": "object",
        "description": "Absolute URLs to poll and to cancel the job.",
        "properties": {"get": {"type": "string"}, "cancel": {"type": "string"}},
    }
    return {
        "type": "object",
        "title": "Job",
        "required": list(properties),
        "properties": {**properties, "urls": links},
    }


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Job": _job_schema(),
        "JobMetrics": {
            "type": "object",
            "required": ["predict_time"],
            "properties": {
                "predict_time": _nullable("number", description="Seconds spent working."),
                "step": {"type": "integer", "description": "Current step, while processing."},
                "steps": {"type": "integer", "description": "Total steps."},
            },
        },
        "Error": {
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"type": "string"}},
        },
        "ValidationError": {
            "type": "object",
            "required": ["detail", "errors"],
            "properties": {
                "detail": {"type": "string"},
                "errors": {
                    "type": "object",
                    "description": "Problems per field; `__all__` for the body as a whole.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "FreeForm": {"type": "object", "additionalProperties": True},
    }
    for endpoint in (*ENDPOINTS, *EXTENSION_ENDPOINTS):
        if endpoint.fields:
            schemas[request_schema_name(endpoint)] = _request_schema(endpoint)
    error = _json(_ref("schemas", "Error"))
    responses = {
        "BadRequest": {
            "description": (
                "The body is not valid JSON, or the Idempotency-Key header is longer than "
                f"{IDEMPOTENCY_KEY_MAX_LENGTH} characters or not printable."
            ),
            "content": error,
        },
        "Unauthorized": {"description": "Missing or wrong bearer token.", "content": error},
        "NotFound": {"description": "No such job.", "content": error},
        "PayloadTooLarge": {
            "description": "The body is larger than the engine accepts (64 KiB).",
            "content": error,
        },
        "UnprocessableEntity": {
            "description": "The body does not match the endpoint's fields.",
            "content": _json(_ref("schemas", "ValidationError")),
        },
        "TooManyRequests": {
            "description": "Too many requests; retry after the given delay.",
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
            "content": error,
        },
    }
    parameters = {
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": (
                "Our extension. A POST repeated with a key this token has used before returns "
                "the job that the first one created instead of creating another; the same key "
                "with a different request is refused (422). Printable ASCII; surrounding "
                "whitespace is ignored; an empty key is no key."
            ),
            "schema": {
                "type": "string",
                "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                "pattern": "^[\\x20-\\x7E]*$",
            },
            "x-openjourney-extension": True,
        }
    }
    return {
        "schemas": schemas,
        "responses": responses,
        "parameters": parameters,
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "`Authorization: Bearer <token>` (OPENJOURNEY_API_TOKEN).",
            }
        },
    }


def openapi_document(server_url: str = "/engine") -> dict[str, Any]:
    """Build the OpenAPI 3.1 document: every catalog endpoint plus our documented extensions."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in (*ENDPOINTS, *EXTENSION_ENDPOINTS):
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    families = dict.fromkeys(e.family for e in (*ENDPOINTS, *EXTENSION_ENDPOINTS))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Openjourney REST API",
            "version": API_VERSION,
            "description": (
                "The Openjourney REST API (reference updated December 14, 2024), as served by "
                "the hosted service at https://api.opj.app and by the compatible local engine. "
                "Every POST returns a job at once; poll `GET /v1/job/{id}` until its status is "
                "succeeded, failed or cancelled. `POST /v1/job/{id}/cancel` is our extension."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": family.label, "description": _FAMILY_DESCRIPTIONS[family]}
            for family in families
        ],
        "paths": paths,
        "components": _components(),
    }
