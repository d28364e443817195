"""Arranging and checking e2e scenarios through the REST API (the UI is what is under test)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect


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


VIEWPORTS = {"1440x900": (1440, 900), "1024x768": (1024, 768)}


def snap(page: Any, artifacts: Path, name: str) -> list[Path]:
    """Save `name` screenshots of the current page at each review viewport (1440x900 and
    1024x768) under `artifacts` and restore the page's own viewport. Returns the paths."""
    original = page.viewport_size
    paths = []
    for label, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        path = artifacts / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    if original:
        page.set_viewport_size(original)
    return paths


def open_new_job_dialog(page: Any, workflow: str) -> Any:
    """Open the new-job dialog, search for `workflow` and pick it; returns the dialog once the
    workflow's form shows. The search starts once the workflows have loaded, and the pick waits
    for the list to be filtered by it: a click while the rows re-render could land on none."""
    page.get_by_role("button", name="New job").click()
    dialog = page.get_by_role("dialog", name="New job")
    expect(dialog.get_by_role("option", name=re.compile(rf"^{workflow}"))).to_be_visible()
    query = workflow[:10]
    dialog.get_by_label("Workflow", exact=True).fill(query)
    expect(dialog.get_by_role("option").filter(has_not_text=query)).to_have_count(0)
    dialog.get_by_role("option", name=re.compile(rf"^{workflow}")).click()
    expect(dialog.get_by_label("Records", exact=True)).to_be_visible()
    return dialog
