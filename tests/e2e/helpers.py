"""Arranging and checking e2e scenarios through the REST API (the UI is what is under test)."""

from __future__ import annotations

import time
from typing import Any

import httpx


def start_job(
    api: httpx.Client, workflow: str, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = api.post("/jobs", json={"workflow": workflow, "input_payload": payload or {}})
    assert response.status_code == 201, response.text
    return dict(response.json())


def job(api: httpx.Client, job_id: str) -> dict[str, Any]:
    response = api.get(f"/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_status(
    api: httpx.Client, job_id: str, *statuses: str, timeout: float = 30.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        current = job(api, job_id)
        if current["status"] in statuses:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(
                f"job {job_id} is {current['status']}, not {statuses} after {timeout} s"
            )
        time.sleep(0.2)


def wait_step_status(
    api: httpx.Client, job_id: str, step: str, *statuses: str, timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        steps = {
            s["step_key"]: s["status"] for s in api.get(f"/jobs/{job_id}/steps").json()["steps"]
        }
        if steps.get(step) in statuses:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"step {step} of {job_id} is {steps.get(step)}, not {statuses}")
        time.sleep(0.2)


def attempts(api: httpx.Client, job_id: str, step: str) -> list[dict[str, Any]]:
    return list(api.get(f"/jobs/{job_id}/steps/{step}/attempts").json()["attempts"])
