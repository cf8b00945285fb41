"""The HTTP client for the Openjourney REST API (the hosted service or our own engine).

One ``OpenjourneyClient`` per process is enough: it keeps a connection pool. It follows the
official client's retry rules: ``429`` is retried for every method and ``5xx`` for ``GET``
only, with a back-off of 500 ms × 2^attempt that honours ``Retry-After``. A ``POST`` that
failed with 5xx or lost its connection is not repeated blindly: it may have created a job,
so ``SubmitUncertain`` says so and the caller reconciles (our engine accepts an
``Idempotency-Key`` for exactly that). Errors are typed; the token never appears in a
message, a ``repr`` or a log line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from openjourney.catalog import TERMINAL_STATUSES, get_endpoint
from openjourney.deadline import DeadlineTransport, deadline, deadline_spent

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
MAX_RETRY_AFTER = 60.0
# A result download ends within this many seconds in all, however slowly it arrives.
DEFAULT_DOWNLOAD_TIMEOUT = 120.0


class ApiError(Exception):
    """Base of every error the client raises; ``str()`` is a sentence for people."""

    status: int | None = None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Unauthorized(ApiError):
    """The API refused the token (401/403)."""


class NotFound(ApiError):
    """Unknown path or job (404)."""


class ValidationFailed(ApiError):
    """The API refused the body (422); ``errors`` maps each field to its problems."""

    def __init__(self, message: str, errors: dict[str, list[str]], status: int = 422) -> None:
        super().__init__(message, status=status)
        self.errors = errors


class RateLimited(ApiError):
    """429 after the allowed retries; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx from the API (after retries, for GET)."""


class Unavailable(ApiError):
    """No answer: connection refused, DNS, time-out."""


class SubmitUncertain(ApiError):
    """A POST whose outcome is unknown (5xx or lost connection): a job may exist."""


class MalformedResponse(ApiError):
    """The API answered something that is not the JSON it should be."""


class DownloadTooSlow(ApiError):
    """A result download that did not end within its total deadline (not worth a retry:
    the whole allowance was spent on it)."""


@dataclass(frozen=True)
class JobInfo:
    """A job as the API describes it."""

    id: str
    status: str
    output: str | None = None
    error: str | None = None
    seed: int | None = None
    # Progress of a model that works in steps (metrics.step / metrics.steps), when given.
    step: int | None = None
    steps: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_payload(cls, payload: object) -> JobInfo:
        if not isinstance(payload, dict):
            raise MalformedResponse("The API answered with something other than a job.")
        job_id, status = payload.get("id"), payload.get("status")
        if not isinstance(job_id, str) or not job_id or not isinstance(status, str):
            raise MalformedResponse("The API's job has no id or status.")
        output = payload.get("output")
        if isinstance(output, list):  # Replicate-style list of outputs: keep the first
            output = output[0] if output else None
        error = payload.get("error")
        seed = payload.get("seed")
        metrics = payload.get("metrics")
        step = steps = None
        if isinstance(metrics, dict):
            step, steps = _count(metrics.get("step")), _count(metrics.get("steps"))
            if step is None or not steps:
                step = steps = None
            else:
                step = min(step, steps)
        return cls(
            id=job_id,
            status=status,
            output=output if isinstance(output, str) else None,
            error=error if isinstance(error, str) else (str(error) if error else None),
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            step=step,
            steps=steps,
            raw=payload,
        )


def _count(value: object) -> int | None:
    """A non-negative integer from a JSON value, else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def parse_retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError):
            return default
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("detail", "error", "message"):
            if isinstance(body.get(key), str):
                return body[key]
    return ""


class OpenjourneyClient:
    """A client for one API base URL and token."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.download_timeout = download_timeout
        self._sleep = sleep
        headers = {"Accept": "application/json", "User-Agent": "openjourney-studio/1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # httpx's timeouts are per read; this transport also ends a download at its total
        # deadline (openjourney/deadline.py). Other requests keep httpx's behaviour.
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            transport=transport or DeadlineTransport(limits=limits),
            trust_env=False,
        )

    def __repr__(self) -> str:
        return f"OpenjourneyClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenjourneyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def api_host(self) -> str:
        return urlsplit(self.base_url).netloc

    # --- requests -------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        headers: dict[str, str] | None = None,
        retries: int | None = None,
    ) -> httpx.Response:
        retries = self.max_retries if retries is None else retries
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, json=json, headers=headers)
            except httpx.TimeoutException:
                if method == "POST":
                    raise SubmitUncertain("The API did not answer the submit in time.") from None
                if attempt < retries:
                    self._sleep(0.5 * 2**attempt)
                    attempt += 1
                    continue
                raise Unavailable("The API did not answer in time.") from None
            except httpx.HTTPError as exc:
                if method == "POST" and not isinstance(exc, httpx.ConnectError):
                    raise SubmitUncertain("The connection broke during the submit.") from None
                if attempt < retries:
                    self._sleep(0.5 * 2**attempt)
                    attempt += 1
                    continue
                raise Unavailable(
                    f"The API at {self.api_host} cannot be reached ({exc.__class__.__name__})."
                ) from None

            status = response.status_code
            backoff = 0.5 * 2**attempt
            if status == 429:
                wait = parse_retry_after(response.headers.get("Retry-After"), backoff)
                if attempt < retries:
                    self._sleep(wait)
                    attempt += 1
                    continue
                raise RateLimited(
                    _detail(response) or "The API is busy (too many requests).", retry_after=wait
                )
            if status >= 500:
                if method == "GET" and attempt < retries:
                    self._sleep(parse_retry_after(response.headers.get("Retry-After"), backoff))
                    attempt += 1
                    continue
                message = _detail(response) or f"The API failed (HTTP {status})."
                if method == "POST":
                    raise SubmitUncertain(message, status=status)
                raise ServerError(message, status=status)
            return self._check(response)

    def _check(self, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status in (401, 403):
            raise Unauthorized(_detail(response) or "The API refused the token.", status=status)
        if status == 404:
            raise NotFound(_detail(response) or "The API has no such job or path.", status=404)
        if status in (400, 422):
            errors: dict[str, list[str]] = {}
            try:
                body = response.json()
                raw = body.get("errors") if isinstance(body, dict) else None
                if isinstance(raw, dict):
                    errors = {
                        str(k): [str(m) for m in (v if isinstance(v, list) else [v])]
                        for k, v in raw.items()
                    }
            except ValueError:
                pass
            raise ValidationFailed(
                _detail(response) or "The API refused the request.", errors, status=status
            )
        if status >= 400:
            raise ApiError(_detail(response) or f"The API answered HTTP {status}.", status=status)
        return response

    def _json(self, response: httpx.Response) -> object:
        try:
            return response.json()
        except ValueError:
            raise MalformedResponse("The API answered with something that is not JSON.") from None

    # --- the API ----------------------------------------------------------------------

    def submit(self, endpoint: str, body: dict, *, idempotency_key: str | None = None) -> JobInfo:
        """POST a request to a model or utility; returns the job it created."""
        spec = get_endpoint(endpoint)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self._request("POST", spec.path, json=body, headers=headers)
        return JobInfo.from_payload(self._json(response))

    def get_job(self, job_id: str, *, retries: int | None = None) -> JobInfo:
        response = self._request("GET", f"/v1/job/{job_id}", retries=retries)
        return JobInfo.from_payload(self._json(response))

    def cancel(self, job_id: str) -> JobInfo:
        """Our engine's cancel extension; the hosted service answers 404 (not supported)."""
        response = self._request("POST", f"/v1/job/{job_id}/cancel", retries=1)
        return JobInfo.from_payload(self._json(response))

    def ping(self, *, retries: int = 0) -> dict:
        payload = self._json(self._request("GET", "/v1/internal/ping", retries=retries))
        if not isinstance(payload, dict):
            raise MalformedResponse("The API's ping is not a JSON object.")
        return payload

    def license(self) -> dict:
        payload = self._json(self._request("GET", "/v1/internal/license"))
        if not isinstance(payload, dict):
            raise MalformedResponse("The API's licence is not a JSON object.")
        return payload

    def release_output(self, url: str) -> bool:
        """Our engine's extension: DELETE a result file once it is stored elsewhere, so that
        the engine's copy (a delivery cache) goes at once. Sent only for a link under this
        API's own ``/files/`` (the hosted service delivers from a host of its own and is
        sent nothing). True when sent; a file gone already answers 404 (NotFound).
        """
        if not url.startswith(f"{self.base_url}/files/"):
            return False
        self._request("DELETE", url, retries=0)
        return True

    def download(
        self, url: str, *, max_bytes: int, allowed_hosts: set[str] | None = None
    ) -> tuple[bytes, str]:
        """Fetch an output file from the API's own host, capped in size and in time.

        Returns (content, content type). The bearer token is sent only to the API's host.
        The whole download (headers and every byte) ends within ``download_timeout``
        seconds: past it, DownloadTooSlow.
        """
        parts = urlsplit(url)
        hosts = allowed_hosts or {self.api_host}
        if parts.scheme not in ("http", "https") or parts.netloc not in hosts:
            raise MalformedResponse(
                f"The result is hosted at {parts.netloc or url!r}, not on the API's host."
            )
        too_slow = DownloadTooSlow(
            f"The result at {parts.netloc} took longer than {self.download_timeout:g} s "
            "to download."
        )
        with deadline(self.download_timeout):
            try:
                return self._stream_capped(url, max_bytes, too_slow)
            except httpx.TimeoutException:
                if deadline_spent():
                    raise too_slow from None
                raise Unavailable("The result download timed out.") from None
            except httpx.HTTPError as exc:
                raise Unavailable(
                    f"The result download failed ({exc.__class__.__name__})."
                ) from None

    def _stream_capped(
        self, url: str, max_bytes: int, too_slow: DownloadTooSlow
    ) -> tuple[bytes, str]:
        with self._http.stream("GET", url, follow_redirects=False) as response:
            if response.status_code != 200:
                raise ServerError(
                    f"The result could not be downloaded (HTTP {response.status_code}).",
                    status=response.status_code,
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise MalformedResponse("The result is larger than the studio accepts.")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise MalformedResponse("The result is larger than the studio accepts.")
                if deadline_spent():  # whatever the transport (a test's mock one)
                    raise too_slow
                chunks.append(chunk)
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            return b"".join(chunks), content_type
