"""The OpenAPI document: structure checked by hand (no openapi-spec-validator in the venv)."""

from __future__ import annotations

import copy
import json
import random
import re
import sys
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest

from openjourney.catalog import (
    ENDPOINTS,
    JOB_CANCEL,
    JOB_STATUSES,
    Endpoint,
    FieldKind,
    get_endpoint,
    validate,
)
from openjourney.openapi import (
    HTTP_URL_PATTERN,
    NETLOC_NFKC_REFUSED,
    NOT_BLANK_PATTERN,
    PYTHON_SPACE_CHARACTERS,
    openapi_document,
    operation_id,
    request_schema_name,
)

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
JSON_TYPES = {"string", "integer", "number", "boolean", "object", "array", "null"}
URL = "https://cdn.example.com/in/face.png"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi_document()


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow $ref (local JSON pointers only) until a non-reference node."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        assert ref not in seen, f"reference cycle at {ref}"
        seen.add(ref)
        node = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            assert isinstance(node, dict) and part in node, f"unresolved {ref}"
            node = node[part]
    return node


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def conforms(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    """A small JSON Schema 2020-12 checker, for the keywords this document uses."""
    schema = resolve(doc, schema)
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_is_type(value, t) for t in types):
            return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return False
        if "maximum" in schema and value > schema["maximum"]:
            return False
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return False
        if "pattern" in schema and not ecma_search(schema["pattern"], value):
            return False
    if isinstance(value, dict):
        if any(name not in value for name in schema.get("required", [])):
            return False
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            sub = properties.get(key, extra)
            if sub is False or (isinstance(sub, dict) and not conforms(doc, sub, item)):
                return False
    if isinstance(value, list) and "items" in schema:
        return all(conforms(doc, schema["items"], item) for item in value)
    return True


def ecma_search(pattern: str, value: str) -> bool:
    """re.search with ECMA-262's "$" (end of input), not Python's (also before a final "\\n")."""
    return re.search(re.sub(r"\$$", r"\\Z", pattern), value) is not None


def _is_type(value: Any, json_type: str) -> bool:
    if json_type == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    return {
        "string": lambda: isinstance(value, str),
        "number": lambda: isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": lambda: isinstance(value, bool),
        "object": lambda: isinstance(value, dict),
        "array": lambda: isinstance(value, list),
        "null": lambda: value is None,
    }[json_type]()


def minimal_body(endpoint: Endpoint) -> dict[str, object]:
    body: dict[str, object] = {}
    for field in endpoint.fields:
        if field.required:
            if field.choices:
                body[field.name] = field.choices[0]
            elif field.kind is FieldKind.IMAGE:
                body[field.name] = URL
            else:
                body[field.name] = "a red fox"
    return body


# --- document structure ----------------------------------------------------------------------


def test_top_level(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "Openjourney REST API"
    assert isinstance(doc["info"]["version"], str) and doc["info"]["version"]
    assert doc["servers"] == [{"url": "/engine"}]
    assert openapi_document("https://api.opj.app")["servers"] == [{"url": "https://api.opj.app"}]
    assert set(doc) <= {
        "openapi",
        "info",
        "jsonSchemaDialect",
        "servers",
        "paths",
        "webhooks",
        "components",
        "security",
        "tags",
        "externalDocs",
    }


def test_is_plain_json_and_deterministic(doc: dict[str, Any]) -> None:
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text) == doc
    assert json.dumps(openapi_document(), allow_nan=False) == text


def test_documents_are_independent() -> None:
    first = openapi_document()
    first["components"]["schemas"]["Job"]["properties"].clear()
    assert openapi_document()["components"]["schemas"]["Job"]["properties"]


def test_one_operation_per_endpoint_plus_cancel(doc: dict[str, Any]) -> None:
    found = {(path, method) for path, method, _ in operations(doc)}
    expected = {(e.path, e.method.lower()) for e in ENDPOINTS}
    expected.add(("/v1/job/{id}/cancel", "post"))
    assert found == expected
    assert len(found) == 40
    assert list(doc["paths"])[: len(ENDPOINTS) - 2] == [e.path for e in ENDPOINTS][:-2]


def test_every_ref_resolves(doc: dict[str, Any]) -> None:
    refs = [node["$ref"] for node in walk(doc) if isinstance(node, dict) and "$ref" in node]
    assert refs
    for ref in refs:
        resolve(doc, {"$ref": ref})


def test_every_component_is_used(doc: dict[str, Any]) -> None:
    refs = {node["$ref"] for node in walk(doc) if isinstance(node, dict) and "$ref" in node}
    for kind in ("schemas", "responses"):
        for name in doc["components"][kind]:
            assert f"#/components/{kind}/{name}" in refs, name


def test_component_names_are_legal(doc: dict[str, Any]) -> None:
    for kind, items in doc["components"].items():
        for name in items:
            assert re.fullmatch(r"[a-zA-Z0-9.\-_]+", name), (kind, name)


def test_path_parameters_are_declared(doc: dict[str, Any]) -> None:
    for path, item in doc["paths"].items():
        assert path.startswith("/v1/")
        templated = set(re.findall(r"\{([^}]+)\}", path))
        for method, operation in item.items():
            assert method in METHODS
            params = [resolve(doc, p) for p in operation.get("parameters", [])]
            declared = {p["name"] for p in params if p["in"] == "path"}
            assert declared == templated, (path, method)
            for param in params:
                assert "schema" in param
                assert param["in"] in ("path", "header")
                assert param["required"] is (param["in"] == "path")
            names = [(p["name"], p["in"]) for p in params]
            assert len(names) == len(set(names))


def test_every_operation_has_responses(doc: dict[str, Any]) -> None:
    for path, method, operation in operations(doc):
        responses = operation["responses"]
        assert responses, (path, method)
        assert "200" in responses
        for code, response in responses.items():
            assert re.fullmatch(r"[1-5]\d\d", code), code
            response = resolve(doc, response)
            assert response["description"], (path, method, code)
            for media in response.get("content", {}).values():
                resolve(doc, media["schema"])


def test_operation_ids_are_unique_and_tags_declared(doc: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9_]+", i) for i in ids)
    assert operation_id(get_endpoint("flux/1.1/pro-ultra")) == "post_flux_1_1_pro_ultra"
    assert operation_id(get_endpoint("job/{id}")) == "get_job"
    assert operation_id(JOB_CANCEL) == "post_job_cancel"
    declared = [t["name"] for t in doc["tags"]]
    assert len(declared) == len(set(declared))
    for _, _, operation in operations(doc):
        assert set(operation["tags"]) <= set(declared)


def test_security(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["type"] == "http"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    for requirement in doc["security"]:
        assert set(requirement) <= set(schemes)


def test_schemas_are_well_formed(doc: dict[str, Any]) -> None:
    for node in walk(doc["components"]["schemas"]):
        if not isinstance(node, dict) or "$ref" in node:
            continue
        if "type" in node and not isinstance(node["type"], dict):
            types = [node["type"]] if isinstance(node["type"], str) else node["type"]
            if all(isinstance(t, str) for t in types):
                assert set(types) <= JSON_TYPES, types
        if isinstance(node.get("required"), list):
            assert set(node["required"]) <= set(node.get("properties", {}))
            assert len(node["required"]) == len(set(node["required"]))
        if isinstance(node.get("enum"), list):
            assert node["enum"] and len(node["enum"]) == len(set(node["enum"]))
        if "default" in node and "type" in node and not isinstance(node["type"], dict):
            assert conforms(doc, node, node["default"]), node


# --- operations --------------------------------------------------------------------------------


def test_post_model_and_utility_responses(doc: dict[str, Any]) -> None:
    for endpoint in ENDPOINTS:
        if endpoint.method != "POST":
            continue
        operation = doc["paths"][endpoint.path]["post"]
        assert set(operation["responses"]) == {"200", "400", "401", "413", "422", "429"}
        too_large = resolve(doc, operation["responses"]["413"])
        assert too_large["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
        params = [resolve(doc, p) for p in operation["parameters"]]
        assert [(p["name"], p["in"], p["required"]) for p in params] == [
            ("Idempotency-Key", "header", False)
        ]
        assert params[0]["schema"] == {
            "type": "string",
            "maxLength": 100,
            "pattern": "^[\\x20-\\x7E]*$",
        }
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/Job"}
        unprocessable = resolve(doc, operation["responses"]["422"])
        assert unprocessable["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ValidationError"
        }
        too_many = resolve(doc, operation["responses"]["429"])
        assert "Retry-After" in too_many["headers"]
        body = operation["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{request_schema_name(endpoint)}"
        }
        assert operation["summary"] == endpoint.display_title
        assert operation["description"] == endpoint.description
        assert operation["tags"] == [endpoint.family.label]
        assert operation["x-openjourney-output"] == endpoint.output.value


def test_get_job(doc: dict[str, Any]) -> None:
    operation = doc["paths"]["/v1/job/{id}"]["get"]
    assert "requestBody" not in operation
    assert operation["parameters"] == [
        {
            "name": "id",
            "in": "path",
            "required": True,
            "description": "Job identifier",
            "schema": {"type": "string"},
        }
    ]
    assert set(operation["responses"]) == {"200", "401", "404"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Job"
    }


def test_cancel_extension(doc: dict[str, Any]) -> None:
    operation = doc["paths"]["/v1/job/{id}/cancel"]["post"]
    assert operation["x-openjourney-extension"] is True
    assert "requestBody" not in operation
    assert [p["name"] for p in operation["parameters"]] == ["id"]
    assert set(operation["responses"]) == {"200", "401", "404", "429"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Job"
    }


def test_internal_endpoints_are_free_form(doc: dict[str, Any]) -> None:
    for path in ("/v1/internal/license", "/v1/internal/ping"):
        operation = doc["paths"][path]["get"]
        schema = resolve(
            doc, operation["responses"]["200"]["content"]["application/json"]["schema"]
        )
        assert schema == {"type": "object", "additionalProperties": True}
        assert "x-openjourney-extension" not in operation
    license_ = doc["paths"]["/v1/internal/license"]["get"]
    assert set(license_["responses"]) == {"200", "401"}
    assert "security" not in license_  # the document's: a bearer token


def test_ping_is_a_health_check(doc: dict[str, Any]) -> None:
    """The engine answers ping without a token, and 503 while its database is unreachable."""
    ping = doc["paths"]["/v1/internal/ping"]["get"]
    assert ping["security"] == [{}, {"bearerAuth": []}]  # {}: no token needed
    assert set(ping["responses"]) == {"200", "401", "503"}
    degraded = ping["responses"]["503"]["content"]["application/json"]["schema"]
    assert resolve(doc, degraded) == {"type": "object", "additionalProperties": True}


def test_prompt_extract_says_output_is_text(doc: dict[str, Any]) -> None:
    operation = doc["paths"]["/v1/utils/prompt-extract"]["post"]
    assert operation["x-openjourney-output"] == "text/plain"
    assert "text" in operation["responses"]["200"]["description"]
    svg = doc["paths"]["/v1/re-craft/svg"]["post"]
    assert svg["x-openjourney-output"] == "image/svg+xml"


# --- request schemas ---------------------------------------------------------------------------


def request_schema(doc: dict[str, Any], slug: str) -> dict[str, Any]:
    return doc["components"]["schemas"][request_schema_name(get_endpoint(slug))]


def test_request_schema_names() -> None:
    assert request_schema_name(get_endpoint("flux/1.1/pro-ultra")) == "Flux11ProUltraRequest"
    assert request_schema_name(get_endpoint("re-craft/generative")) == "ReCraftGenerativeRequest"
    assert request_schema_name(get_endpoint("sdxl/generative")) == "SdxlGenerativeRequest"
    names = [request_schema_name(e) for e in ENDPOINTS if e.fields]
    assert len(names) == len(set(names)) == 36


def test_request_schemas_mirror_the_fields(doc: dict[str, Any]) -> None:
    for endpoint in ENDPOINTS:
        if not endpoint.fields:
            continue
        schema = request_schema(doc, endpoint.slug)
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        assert list(schema["properties"]) == list(endpoint.field_names)
        assert schema.get("required", []) == [f.name for f in endpoint.fields if f.required]
        for field in endpoint.fields:
            prop = schema["properties"][field.name]
            assert prop["title"] == field.label
            assert prop["description"].startswith(field.help)
            json_type = "string" if field.kind is FieldKind.IMAGE else field.kind.value
            # null is "not given" for an optional field, so the schema lets it through.
            assert prop["type"] == (json_type if field.required else [json_type, "null"])
            if field.choices:
                nullable = [] if field.required else [None]
                assert prop["enum"] == [*field.choices, *nullable]
            if field.default is not None:
                assert prop["default"] == field.default
            else:
                assert "default" not in prop
            assert prop.get("maxLength") == field.max_length
            assert prop.get("minimum") == field.minimum
            assert prop.get("maximum") == field.maximum


def test_request_schema_details(doc: dict[str, Any]) -> None:
    ultra = request_schema(doc, "flux/1.1/pro-ultra")
    assert ultra["required"] == ["prompt", "canvas"]
    assert ultra["properties"]["canvas"]["enum"] == [
        "Square",
        "Portrait",
        "Landscape",
        "Wide Landscape",
    ]
    assert ultra["properties"]["raw"] == {
        "type": ["boolean", "null"],
        "title": "Raw mode",
        "description": "Less processed and natural-looking",
        "default": False,
    }
    seed = ultra["properties"]["seed"]
    assert (seed["type"], seed["minimum"], seed["maximum"]) == (["integer", "null"], 0, 4294967295)
    prompt = ultra["properties"]["prompt"]
    assert (prompt["type"], prompt["maxLength"]) == ("string", 2000)
    assert prompt["pattern"] == NOT_BLANK_PATTERN

    sdxl = request_schema(doc, "sdxl/generative")
    assert sdxl["required"] == ["prompt"]
    assert sdxl["properties"]["canvas"]["default"] == "Square"
    guidance = sdxl["properties"]["guidance"]
    assert (guidance["type"], guidance["default"], guidance["minimum"], guidance["maximum"]) == (
        ["number", "null"],
        7.5,
        1,
        20,
    )
    assert "pattern" not in sdxl["properties"]["negative_prompt"]

    swap = request_schema(doc, "utils/faceswap")
    assert swap["required"] == ["source", "target"]
    for name in ("source", "target"):
        prop = swap["properties"][name]
        assert (prop["type"], prop["maxLength"], prop["pattern"]) == (
            "string",
            2048,
            HTTP_URL_PATTERN,
        )
        # The engine takes links that neither "uri" nor "iri" allows: the pattern says it all.
        assert "format" not in prop


def test_schemas_and_validate_agree(doc: dict[str, Any]) -> None:
    """The request schema accepts exactly what validate() accepts."""
    for endpoint in ENDPOINTS:
        if not endpoint.fields:
            continue
        schema = request_schema(doc, endpoint.slug)
        base = minimal_body(endpoint)
        bodies: list[dict[str, object]] = [base, {}, {**base, "extra": 1}]
        for field in endpoint.fields:
            bodies.append({k: v for k, v in base.items() if k != field.name})
            for value in (
                *(1, True, "zzz", "   ", "x" * 3000, 2**32, -1, 0.5, 7, 7.5, 25, [], {}, None),
                # Blank by Python's str.isspace() but not by ECMA-262's \s, and the reverse.
                *("\x85", "\x1f\u3000", "\ufeff", "a\x85"),
            ):
                bodies.append({**base, field.name: value})
            for choice in field.choices:
                bodies.append({**base, field.name: choice})
        for body in bodies:
            expected = validate(endpoint, copy.deepcopy(body)).ok
            assert conforms(doc, schema, body) is expected, (endpoint.path, body)


# --- response schemas ----------------------------------------------------------------------------


def test_job_schema(doc: dict[str, Any]) -> None:
    job = doc["components"]["schemas"]["Job"]
    props = job["properties"]
    assert (
        props["status"]["enum"]
        == list(JOB_STATUSES)
        == [
            "starting",
            "booting",
            "processing",
            "succeeded",
            "failed",
            "cancelled",
        ]
    )
    assert props["output"]["type"] == ["string", "null"]
    assert props["error"]["type"] == ["string", "null"]
    assert props["seed"]["type"] == ["integer", "null"]
    for name in ("created_at", "started_at", "completed_at"):
        assert props[name] == {"type": ["string", "null"], "format": "date-time"}
    metrics = resolve(doc, props["metrics"])
    assert metrics["properties"]["predict_time"]["type"] == ["number", "null"]
    assert metrics["properties"]["step"]["type"] == "integer"
    assert metrics["properties"]["steps"]["type"] == "integer"
    assert metrics["required"] == ["predict_time"]
    assert "urls" not in job["required"]  # the engine's addition (Replicate's shape)
    assert set(props["urls"]["properties"]) == {"get", "cancel"}

    running = {
        "id": "j_123",
        "status": "processing",
        "model": "/v1/flux/dev",
        "input": {"prompt": "a fox", "canvas": "Square"},
        "output": None,
        "error": None,
        "seed": 1234,
        "created_at": "2024-12-14T10:00:00Z",
        "started_at": "2024-12-14T10:00:01Z",
        "completed_at": None,
        "metrics": {"predict_time": None, "step": 3, "steps": 28},
    }
    assert conforms(doc, job, running)
    done = {**running, "status": "succeeded", "output": "https://cdn.example/u/j_123.png"}
    done["metrics"] = {"predict_time": 4.2}
    assert conforms(doc, job, done)
    assert not conforms(doc, job, {**running, "status": "queued"})
    assert not conforms(doc, job, {k: v for k, v in running.items() if k != "id"})
    assert not conforms(doc, job, {**running, "metrics": {"step": 1}})


def test_validation_error_schema(doc: dict[str, Any]) -> None:
    schema = doc["components"]["schemas"]["ValidationError"]
    errors = validate(get_endpoint("flux/dev"), {"canvas": "Huge", "x": 1}).errors
    assert conforms(doc, schema, {"detail": "Invalid request body.", "errors": errors})
    assert conforms(
        doc, schema, {"detail": "x", "errors": {"__all__": ["Expected a JSON object."]}}
    )
    assert not conforms(doc, schema, {"detail": "x", "errors": {"canvas": "bad"}})
    assert not conforms(doc, schema, {"errors": {}})


def test_image_pattern_follows_the_engines_url_check(doc: dict[str, Any]) -> None:
    prop = request_schema(doc, "utils/upscale")["properties"]["image"]
    good = [
        *(URL, "http://example.com", "HTTPS://Example.COM/a.png?x=1#f", "https://[2001:db8::1]/a"),
        *("https://bücher.example/ä.png", "http://u:p@a@example.com:0080/x", "http://[::]:65535"),
        *("https://a:/x", "https://a|b/%zz", "https://example.com/\ufeff"),
    ]
    bad = [
        *("example.com/a.png", "ftp://example.com/a", "https://", "http:///a", "https://a b/c"),
        *("https://a:65536", "https://a:8o", "https://u@/x", "https://[1.2.3.4]/", "https://[::1/"),
        *("https://a\uff0fb/", "https://a/\x85", "https://a/\x7f", "https://a\n", "https://a/\x00"),
    ]
    for url in good:
        assert validate(get_endpoint("utils/upscale"), {"image": url}).ok
        assert conforms(doc, prop, url), url
    for url in bad:
        assert not validate(get_endpoint("utils/upscale"), {"image": url}).ok
        assert not conforms(doc, prop, url), url


def test_image_pattern_agrees_with_validate_on_random_links(doc: dict[str, Any]) -> None:
    """20,000 seeded random links: what the pattern allows, the engine takes, and back."""
    prop = request_schema(doc, "utils/upscale")["properties"]["image"]
    endpoint = get_endpoint("utils/upscale")
    pieces = [
        *(
            "a",
            "B",
            "x.y",
            "é",
            "0",
            "80",
            "99999",
            "65535",
            "1.2.3.4",
            "::1",
            "fe80::",
            "2001:db8",
        ),
        *("@", ":", "/", "?", "#", "[", "]", "%", "|", " ", "\t", "\x85", "\ufeff", "\uff0f"),
        *("\x7f", "\x01", "\u3000", "\u2100"),
    ]
    rng = random.Random(20241214)
    for _ in range(20_000):
        scheme = rng.choice(("http://", "https://", "HTTPS://", "ftp://", "http:/", ""))
        url = scheme + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 7)))
        allowed = conforms(doc, prop, url)
        taken = validate(endpoint, {"image": url}).ok
        if allowed:
            assert taken, url  # the document never promises what the engine refuses
        elif taken:
            # The forms the pattern leaves out on purpose, all about brackets in the host.
            assert "[" in url and "]" in url, url


def test_pattern_character_lists_match_this_python() -> None:
    """The spelled-out lists are what str.isspace() and urllib's NFKC check use here."""
    space = re.compile(f"[{PYTHON_SPACE_CHARACTERS}]")
    nfkc = re.compile(f"[{NETLOC_NFKC_REFUSED}]")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert (space.fullmatch(char) is not None) is char.isspace(), hex(code)
        folded = unicodedata.normalize("NFKC", char)
        refused = folded != char and any(c in folded for c in "/?#@:")
        assert (nfkc.fullmatch(char) is not None) is refused, hex(code)
