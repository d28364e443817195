"""The run history on a workflow's page: the same rows as `jobmonitor history` (run, mode,
requester, status, steps, before -> after with the delta), linking to the job."""

from __future__ import annotations

import random
import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import start_job, wait_status


def test_workflow_page_shows_the_run_history(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    seed = random.randrange(10**9)  # notes the memory store has not seen: +20 documents
    job = start_job(api, "memory_first_v2", {"records": 20, "limit": 5, "seed": seed})
    wait_status(api, job["id"], "completed")
    run = api.get("/runs", params={"workflow": "memory_first_v2"}).json()["items"][0]
    assert run["id"] == job["id"] and run["delta"]["documents_total"] == 20

    page.goto("/workflows/memory_first_v2")
    history = page.get_by_role("region", name="Run history")
    row = history.locator(f'tr[data-run-id="{job["id"]}"]')
    expect(row).to_contain_text("global_batch")
    expect(row).to_contain_text("token:")
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text(re.compile(r"documents_total \d+ -> \d+ \(\+20\)"))
    expect(row).to_contain_text(f"{run['steps_completed']}/{run['step_count']}")
    page.screenshot(path=str(artifacts_dir / "workflow-run-history.png"), full_page=True)
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(f"/jobs/{job['id']}$"))
