"""Helpers for the engine's tests (tokens and the API client live in tests/conftest.py)."""

from __future__ import annotations

import time

import httpx
import pytest

TERMINAL = {"succeeded", "failed", "cancelled"}


def wait_for_job(client: httpx.Client, job_id: str, timeout: float = 60) -> dict:
    """Poll a job until it ends; fail the test if it doesn't within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/job/{job_id}").json()
        if job["status"] in TERMINAL:
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {job['status']} after {timeout} s")
        time.sleep(0.05)
