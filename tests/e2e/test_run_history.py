"""The run history on a workflow's page: the same rows as `jobmonitor history` (run, mode,
requester, status, steps, before -> after with the delta), linking to the job."""

from __future__ import annotations

import random
import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import wait_status


def test_workflow_page_shows_the_run_history(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    seed = random.randrange(10**9)  # notes the memory store has not seen: +20 documents
    # a single_item run: the workflow's one-batch-a-minute limit stays free for other tests
    response = api.post(
        "/jobs",
        json={
            "workflow": "memory_first_v2",
            "input_payload": {"records": 20, "limit": 5, "seed": seed, "auto_review": True},
            "mode": "single_item",
            "item_id": "e2e-1",
        },
    )
    assert response.status_code == 201, response.text
    job = response.json()
    wait_status(api, job["id"], "completed", timeout=90)
    run = api.get("/runs", params={"workflow": "memory_first_v2"}).json()["items"][0]
    assert run["id"] == job["id"] and run["delta"]["documents_total"] == 20

    page.goto("/workflows/memory_first_v2")
    history = page.get_by_role("region", name="Run history")
    row = history.locator(f'tr[data-run-id="{job["id"]}"]')
    expect(row).to_contain_text("single_item e2e-1")
    expect(row).to_contain_text("token:")
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text(re.compile(r"documents_total \d+ -> \d+ \(\+20\)"))
    expect(row).to_contain_text(f"{run['steps_completed']}/{run['step_count']}")
    page.screenshot(path=str(artifacts_dir / "workflow-run-history.png"), full_page=True)
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(f"/jobs/{job['id']}$"))
