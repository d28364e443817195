"""Workflows: the list with counts and success rate, a workflow's metrics, duration chart and
DAG, and "New job" with the workflow preselected."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import start_job, wait_status


def test_workflow_pages(page: Page, api: httpx.Client, artifacts_dir: Path) -> None:
    ok = start_job(api, "parallel_processing", {"records": 20})
    bad = start_job(
        api, "parallel_processing", {"records": 20, "fail_step": "branch_b", "fail_times": 3}
    )
    wait_status(api, ok["id"], "completed")
    wait_status(api, bad["id"], "failed")
    counts = next(
        w for w in api.get("/workflows").json()["items"] if w["name"] == "parallel_processing"
    )["job_counts"]
    rate = f"{100 * counts['completed'] / (counts['completed'] + counts['failed']):.1f}%"

    page.goto("/workflows")
    row = page.locator('tr[data-workflow="parallel_processing"]')
    expect(row).to_contain_text(rate)
    page.screenshot(path=str(artifacts_dir / "workflows.png"), full_page=True)
    row.get_by_role("link", name="parallel_processing").click()

    expect(page.get_by_role("heading", name="parallel_processing")).to_be_visible()
    expect(page.get_by_role("group", name="Success rate")).to_contain_text(rate)
    expect(page.get_by_role("group", name="p95 duration")).to_contain_text(re.compile(r"\d"))
    chart = page.get_by_role("figure", name="Durations of recent jobs")
    expect(chart.locator(".recharts-label").filter(has_text="Duration (s)")).to_have_count(1)
    grid = page.get_by_role("table", name="Runs grid")  # every recent run links to its job
    expect(grid.locator("thead").get_by_role("link")).to_have_count(min(sum(counts.values()), 25))
    steps = page.get_by_role("list", name="Workflow steps").get_by_role("listitem")
    expect(steps).to_have_count(5)
    page.screenshot(path=str(artifacts_dir / "workflow-detail.png"), full_page=True)

    page.get_by_role("button", name="New job").click()
    dialog = page.get_by_role("dialog", name="New job")
    expect(dialog.get_by_role("option", name=re.compile("^parallel_processing"))).to_have_attribute(
        "aria-selected", "true"
    )
    dialog.get_by_label("Records", exact=True).fill("5")
    dialog.get_by_role("button", name="Start job").click()
    page.get_by_role("button", name="View job").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    expect(
        page.get_by_role("region", name="Job info").get_by_role("link", name="parallel_processing")
    ).to_be_visible()
