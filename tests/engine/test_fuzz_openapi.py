"""A bounded property-based run of the engine against its own OpenAPI document.

Schemathesis loads the document the engine serves at ``/engine/openapi.json`` and sends
every operation generated requests: valid bodies, mutated ones (wrong types, unknown fields,
missing required fields, values out of range, nulls) and the coverage phase's boundary
values. Each answer is checked: no 5xx, a documented status code, the documented content
type and headers, a body that matches the documented schema, valid data accepted, invalid
data refused, and a 401 when the token is taken away. A second run sends requests with
no token or a bad one. Hand-written hostile bodies (huge, deeply nested, not JSON at all)
cover what a generator driven by the schema does not send.

The requests go through Django's WSGI application in this process: the same middleware,
URLs and views as the real server, inside the test's transaction, so a run is quick and
leaves nothing behind. Jobs are created but never run (``run_job.delay`` is patched out):
the job path with a real worker is tested elsewhere.

Bounded and repeatable: derandomized Hypothesis, no example database, a few examples an
operation (``EXAMPLES``) plus the coverage phase's cases: about 25 s for the file on a
2-core machine, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import json
import re

import pytest

# Test-only tools that the venv has but a clean install of '.[dev]' may not.
schemathesis = pytest.importorskip("schemathesis", reason="needs schemathesis 4 (dev tool)")
hypothesis = pytest.importorskip("hypothesis", reason="needs hypothesis (dev tool)")

from django.core.signals import request_finished, request_started  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from hypothesis import HealthCheck  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine.models import ApiToken, EngineJob, Status  # noqa: E402
from engine.views import MAX_BODY_BYTES  # noqa: E402
from openjourney.catalog import ENDPOINTS  # noqa: E402
from openjourney.openapi import openapi_document  # noqa: E402

EXAMPLES = 10  # per operation in the fuzzing phase, on top of the coverage phase's cases
PING = "/v1/internal/ping"
# What engine/urls.py routes as a job id; any other id is an unknown path there (404).
ROUTED_JOB_ID = re.compile(r"[0-9a-zA-Z_-]{1,64}")
ON_POSTGRES = connection.vendor == "postgresql"
IMAGE_FIELDS = {e.path: [f.name for f in e.image_fields] for e in ENDPOINTS if e.image_fields}
HEALTH_CHECKS = [
    HealthCheck.too_slow,
    HealthCheck.filter_too_much,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
    # The fixtures (database, token, patched settings) are meant to be shared by the
    # examples of one operation.
    HealthCheck.function_scoped_fixture,
]
SHAPE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _config(mode: str, examples: int, coverage: bool, security: bool) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "generation": {
                "mode": mode,
                "max-examples": examples,
                "deterministic": True,
                "database": "none",
                # Without it no Authorization header is generated, so the tests choose it.
                "with-security-parameters": security,
            },
            "phases": {"coverage": {"enabled": coverage}},
        }
    )


# Loaded once, at import: the engine's own document through its own view. pytest-django has
# set Django up before test modules are imported.
APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi(
    "/engine/openapi.json",
    APP,
    config=_config("all", EXAMPLES, coverage=True, security=False),
)
# Without a token every operation answers the same way, so a few valid requests suffice.
unauthenticated_schema = schemathesis.openapi.from_wsgi(
    "/engine/openapi.json",
    APP,
    config=_config("positive", 2, coverage=False, security=False),
)


@pytest.fixture
def engine_app(db, settings, monkeypatch):
    """The engine in this process, with no worker, no cap in reach and no faults."""
    monkeypatch.setattr("engine.tasks.run_job.delay", lambda job_id: None)
    settings.ENGINE_MAX_ACTIVE_JOBS = 1_000_000
    settings.ENGINE_FAULTS = []
    # Django closes "old" database connections as each request starts and ends; in this
    # process that is the test's own connection, inside its transaction. Django's test
    # client switches this off around its requests the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield APP
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def auth(engine_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {engine_token}"}


# --- generated requests, with a valid token ------------------------------------------------


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=HEALTH_CHECKS)
def test_operation_answers_as_documented(case, engine_app, auth):
    # A repeated Idempotency-Key returns the job it first made, whatever the body: each
    # example starts without jobs so that a key drawn twice cannot turn a bad body into a
    # 200 (a rule of its own, tested in test_api_submit.py).
    EngineJob.objects.all().delete()
    response = case.call_and_validate(headers=auth, excluded_checks=[negative_data_rejection])
    if not _bracket_in_a_link(case):
        case.validate_response(response, checks=[negative_data_rejection], headers=auth)


def _bracket_in_a_link(case) -> bool:
    """Whether an image link in the body has a bracket in it.

    The engine takes links whose host part the document's pattern refuses, all with
    brackets in odd places ("http://a[::1]x", "http://[::1]@a"): it checks links with
    urllib.parse.urlsplit, which is lenient there. Such a link is no URL (RFC 3986), so
    the engine is the one to change (see test_malformed_bracketed_link_is_refused); until
    then a bad body accepted for that reason alone is not counted against it.
    """
    body = case.body if isinstance(case.body, dict) else {}
    links = [body.get(name) for name in IMAGE_FIELDS.get(case.operation.path, ())]
    return any(isinstance(link, str) and ("[" in link or "]" in link) for link in links)


# --- generated requests, without a valid token ---------------------------------------------

BAD_CREDENTIALS = ("absent", "unknown token", "wrong scheme", "revoked token", "empty bearer")


@pytest.fixture
def bad_headers(engine_user, engine_token) -> dict[str, dict[str, str]]:
    revoked, raw_revoked = ApiToken.issue(engine_user, "revoked")
    revoked.revoked = True
    revoked.save(update_fields=["revoked"])
    return {
        "absent": {},
        "unknown token": {"Authorization": "Bearer oje_" + "x" * 43},
        "wrong scheme": {"Authorization": f"Basic {engine_token}"},
        "revoked token": {"Authorization": f"Bearer {raw_revoked}"},
        "empty bearer": {"Authorization": "Bearer "},
    }


@unauthenticated_schema.parametrize()
@unauthenticated_schema.given(credential=st.sampled_from(BAD_CREDENTIALS))
@hypothesis.settings(deadline=None, suppress_health_check=HEALTH_CHECKS)
def test_operation_without_a_valid_token_answers_401(case, credential, engine_app, bad_headers):
    response = case.call(headers=bad_headers[credential])
    case.validate_response(response, checks=SHAPE_CHECKS)
    job_id = (case.path_parameters or {}).get("id")
    if job_id is not None and not ROUTED_JOB_ID.fullmatch(job_id):
        # Not a job path at all: the URL is unknown before any token is looked at.
        assert response.status_code == 404
    elif case.operation.path == PING:
        assert response.status_code == 200  # a health check needs no token
    else:
        assert response.status_code == 401, response.text
        headers = {name.lower(): value for name, value in response.headers.items()}
        assert headers["www-authenticate"] == ['Bearer realm="openjourney"']
        assert not EngineJob.objects.exists()


# --- every status a job can have, through GET and cancel ------------------------------------


def test_jobs_in_every_status_match_the_document(engine_app, auth):
    created = []
    for slug, body in [
        ("flux/dev", {"prompt": "a red fox", "canvas": "Portrait", "seed": 7}),
        ("re-craft/svg", {"prompt": "a lighthouse", "canvas": "Square"}),
        ("utils/prompt-extract", {"image": "https://cdn.example.com/a.png"}),
        ("sdxl/generative", {"prompt": "a fox", "guidance": 3, "seed": None}),
        ("flux/schnell", {"prompt": "a fox"}),
    ]:
        submit = schema[f"/v1/{slug}"]["POST"].Case(body=body, media_type="application/json")
        response = submit.call(headers=auth)
        submit.validate_response(response, checks=SHAPE_CHECKS)
        assert response.status_code == 200, response.text
        created.append(response.json()["id"])

    now = timezone.now()
    running, done_file, done_text, failed, cancelled = created
    EngineJob.objects.filter(pk=running).update(status=Status.PROCESSING, started_at=now)
    EngineJob.objects.filter(pk=done_file).update(
        status=Status.SUCCEEDED, output_file="engine/1/x.svg", started_at=now, completed_at=now
    )
    EngineJob.objects.filter(pk=done_text).update(
        status=Status.SUCCEEDED, output_text="a photo, red", started_at=now, completed_at=now
    )
    EngineJob.objects.filter(pk=failed).update(
        status=Status.FAILED, error="The image link timed out.", completed_at=now
    )
    EngineJob.objects.filter(pk=cancelled).update(status=Status.CANCELLED, completed_at=now)

    seen = set()
    for job_id in created:
        get = schema["/v1/job/{id}"]["GET"].Case(path_parameters={"id": job_id})
        response = get.call(headers=auth)
        get.validate_response(response, checks=SHAPE_CHECKS)
        seen.add(response.json()["status"])
    assert seen == {"processing", "succeeded", "failed", "cancelled"}

    for job_id in (running, done_file):
        cancel = schema["/v1/job/{id}/cancel"]["POST"].Case(path_parameters={"id": job_id})
        response = cancel.call(headers=auth)
        cancel.validate_response(response, checks=SHAPE_CHECKS)
    assert EngineJob.objects.get(pk=running).status == Status.CANCELLED
    assert EngineJob.objects.get(pk=done_file).status == Status.SUCCEEDED  # ended: unchanged

    gone = schema["/v1/job/{id}"]["GET"].Case(path_parameters={"id": "0" * 24})
    response = gone.call(headers=auth)
    gone.validate_response(response, checks=SHAPE_CHECKS)
    assert response.status_code == 404


# --- bodies no schema-driven generator sends ------------------------------------------------

FIELDS = b'"prompt": "a fox", "canvas": "Square"'
VALIDATION = 422
HOSTILE_BODIES = [
    pytest.param(b"\xff\xfe\x00garbage", 400, id="not-utf8"),
    pytest.param(b"prompt=a+fox&canvas=Square", 400, id="form-encoded"),
    pytest.param(b"", 400, id="empty"),
    pytest.param(b"{" + FIELDS, 400, id="truncated"),
    pytest.param(b"{" + FIELDS + b",}", 400, id="trailing-comma"),
    pytest.param(b"\xef\xbb\xbf{" + FIELDS + b"}", 400, id="utf8-bom"),
    pytest.param('{"prompt": "a fox"}'.encode("utf-16"), 400, id="utf16"),
    pytest.param(b"[" * 30_000 + b"]" * 30_000, 400, id="nested-past-recursion-limit"),
    pytest.param(b"null", VALIDATION, id="json-null"),
    pytest.param(b"[]", VALIDATION, id="json-array"),
    pytest.param(b'"a fox"', VALIDATION, id="json-string"),
    pytest.param(b"{" + FIELDS + b', "seed": NaN}', VALIDATION, id="nan"),
    pytest.param(b"{" + FIELDS + b', "seed": -Infinity}', VALIDATION, id="infinity"),
    pytest.param(b"{" + FIELDS + b', "seed": 1e400}', VALIDATION, id="float-overflow"),
    pytest.param(b"{" + FIELDS + b', "seed": ' + b"9" * 4000 + b"}", VALIDATION, id="big-int"),
    pytest.param(b"{" + FIELDS + b', "x": ' + b"[" * 500 + b"]" * 500 + b"}", 422, id="deep"),
    pytest.param(
        b"{" + FIELDS + b', "x": ' + json.dumps({str(i): i for i in range(3000)}).encode() + b"}",
        VALIDATION,
        id="wide-unknown-field",
    ),
    pytest.param(
        b'{"prompt": "' + b"a" * 60_000 + b'", "canvas": "Square"}', 422, id="long-prompt"
    ),
    pytest.param(b'{"prompt": "' + b"a" * 70_000 + b'"}', 413, id="over-64-kib"),
    pytest.param(
        b"{" + FIELDS + b', "seed": ' + b"9" * 5000 + b"}",
        VALIDATION,
        id="int-past-python-digit-limit",
    ),
    pytest.param(
        b'{"prompt": "' + b"a" * 3_000_000 + b'"}',
        413,
        id="over-django-upload-limit",
    ),
    pytest.param(
        b'{"prompt": "a\\u0000fox", "canvas": "Square"}',
        (200, 422),
        id="nul-in-prompt",
    ),
    pytest.param(
        b'{"prompt": "a\\ud800fox", "canvas": "Square"}',
        (200, 422),
        id="lone-surrogate-in-prompt",
    ),
]


@pytest.mark.parametrize(("body", "expected"), HOSTILE_BODIES)
def test_hostile_body_gets_a_documented_json_answer(engine_app, client, auth, body, expected):
    response = client.post(
        "/engine/v1/flux/dev", body, content_type="application/json", headers=auth
    )
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert response.status_code in expected, response.content[:200]
    documented = openapi_document()["paths"]["/v1/flux/dev"]["post"]["responses"]
    assert str(response.status_code) in documented
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    if response.status_code >= 400:
        assert isinstance(answer["detail"], str) and answer["detail"]
    if response.status_code == 422:
        assert all(
            isinstance(problems, list) and all(isinstance(p, str) for p in problems)
            for problems in answer["errors"].values()
        )
    if response.status_code == 413:
        assert str(MAX_BODY_BYTES) in answer["detail"]


@pytest.mark.parametrize(
    "link", ["http://a[::1]x/p.png", "http://[::1]@a/p.png", "http://a][::1]/p.png"]
)
def test_malformed_bracketed_link_is_refused(engine_app, client, auth, link):
    response = client.post(
        "/engine/v1/utils/upscale",
        json.dumps({"image": link}),
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 422
