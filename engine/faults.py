"""Faults on purpose: make the engine misbehave for a path or a token, for reliability tests.

Faults come from two places: ``Fault`` rows (switched on in the admin) and the
``ENGINE_FAULTS`` setting, a list of objects with the same keys (``kind``, ``path``,
``method``, ``status_code``, ``retry_after``, ``delay_ms``, ``token_prefix``).
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q
from django.http import HttpResponse

from engine.models import ApiToken, Fault, FaultKind
from engine.responses import error, too_many_requests

# Faults answered by the HTTP layer itself; the rest are attached to a job.
HTTP_FAULTS = {FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.MALFORMED_JSON}
JOB_FAULTS = {
    FaultKind.JOB_FAILS,
    FaultKind.JOB_HANGS,
    FaultKind.JOB_SLOW,
    FaultKind.JOB_VANISHES,
}
OUTPUT_FAULTS = {FaultKind.OUTPUT_ERROR, FaultKind.OUTPUT_NOT_IMAGE}


@dataclass(frozen=True)
class ActiveFault:
    kind: str
    status_code: int = 503
    retry_after: int = 1
    delay_ms: int = 0


def _matches(pattern: str, method_rule: str, slug: str, method: str) -> bool:
    if method_rule and method_rule.upper() != method:
        return False
    return fnmatch.fnmatchcase(slug, pattern or "*")


def _from_settings(slug: str, method: str, token: ApiToken | None) -> list[ActiveFault]:
    found = []
    for rule in settings.ENGINE_FAULTS or []:
        if not isinstance(rule, dict) or rule.get("kind") not in FaultKind.values:
            continue
        prefix = rule.get("token_prefix")
        if prefix and (token is None or not token.prefix.startswith(prefix)):
            continue
        if _matches(rule.get("path", "*"), rule.get("method", ""), slug, method):
            found.append(
                ActiveFault(
                    kind=rule["kind"],
                    status_code=int(rule.get("status_code", 503)),
                    retry_after=int(rule.get("retry_after", 1)),
                    delay_ms=int(rule.get("delay_ms", 0)),
                )
            )
    return found


def _from_database(
    slug: str, method: str, token: ApiToken | None, kinds: set[str]
) -> list[ActiveFault]:
    rows = Fault.objects.filter(enabled=True, kind__in=kinds)
    if token is None:
        rows = rows.filter(token__isnull=True)
    else:
        rows = rows.filter(Q(token__isnull=True) | Q(token=token))
    found = []
    for fault in rows:
        if not _matches(fault.path, fault.method, slug, method):
            continue
        if fault.remaining is not None:
            # Spend one firing atomically; another request may have taken the last one.
            spent = Fault.objects.filter(pk=fault.pk, remaining__gt=0).update(
                remaining=F("remaining") - 1
            )
            if not spent:
                continue
        found.append(ActiveFault(fault.kind, fault.status_code, fault.retry_after, fault.delay_ms))
    return found


# What each kind of request can do with a fault: a counted fault is spent only where it acts.
SUBMIT_KINDS = {*HTTP_FAULTS, FaultKind.SLOW, *JOB_FAULTS}
POLL_KINDS = {*HTTP_FAULTS, FaultKind.SLOW}


def active_faults(
    slug: str, method: str, token: ApiToken | None, kinds: set[str]
) -> list[ActiveFault]:
    """Every fault of ``kinds`` that fires for this request, settings first."""
    if not settings.ENGINE_FAULTS and not Fault.objects.filter(enabled=True).exists():
        return []
    from_settings = [f for f in _from_settings(slug, method, token) if f.kind in kinds]
    return from_settings + _from_database(slug, method, token, kinds)


def http_fault_response(faults: list[ActiveFault]) -> HttpResponse | None:
    """Sleep for slow faults, then the first answering fault's response, if any."""
    for fault in faults:
        if fault.kind == FaultKind.SLOW and fault.delay_ms:
            time.sleep(min(fault.delay_ms, 120_000) / 1000)
    for fault in faults:
        if fault.kind == FaultKind.RATE_LIMIT:
            return too_many_requests("Too many requests (fault on purpose).", fault.retry_after)
        if fault.kind == FaultKind.SERVER_ERROR:
            status = fault.status_code if 500 <= fault.status_code <= 599 else 503
            return error(status, "The engine failed on purpose (fault switch).")
        if fault.kind == FaultKind.MALFORMED_JSON:
            return HttpResponse(b'{"id": "broken', content_type="application/json", status=200)
    return None


def first_of(faults: list[ActiveFault], kinds: set) -> ActiveFault | None:
    return next((fault for fault in faults if fault.kind in kinds), None)
