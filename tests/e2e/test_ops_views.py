"""The runs grid and the duration chart on the workflow page, the workers page, and a pending
job that says why it waits: the real app, two real rq workers and the reaper."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import snap, start_job, wait_status, wait_step_status


def _register(api: httpx.Client, definition: dict[str, Any]) -> None:
    response = api.post("/workflows", json=definition)
    assert response.status_code in (200, 201), response.text


def _same_colour(swatch: Locator, colour: str) -> bool:
    """Does the swatch's painted background equal the Radix colour `--{colour}-9`?"""
    return bool(
        swatch.evaluate(
            """(el, colour) => {
                const probe = document.createElement('div');
                probe.style.background = `var(--${colour}-9)`;
                el.parentElement.appendChild(probe);
                const want = getComputedStyle(probe).backgroundColor;
                probe.remove();
                return getComputedStyle(el).backgroundColor === want;
            }""",
            colour,
        )
    )


def test_runs_grid_and_duration_chart(page: Page, api: httpx.Client, artifacts_dir: Path) -> None:
    name = f"grid_{uuid.uuid4().hex[:6]}"
    _register(
        api,
        {
            "name": name,
            "steps": [
                {"key": "fetch", "action": "test.echo"},
                {"key": "check", "action": "test.flaky", "depends_on": ["fetch"]},
                {"key": "publish", "action": "test.echo", "depends_on": ["check"]},
            ],
        },
    )
    jobs = [start_job(api, name, {"fail_times": n}) for n in (0, 1, 0)]
    for job, final in zip(jobs, ("completed", "failed", "completed"), strict=True):
        wait_status(api, job["id"], final)

    page.goto(f"/workflows/{name}")
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=30_000)
    grid = page.get_by_role("table", name="Runs grid")
    expect(grid.locator("thead").get_by_role("link")).to_have_count(3)  # 3 runs as columns
    expect(grid.locator("tbody tr")).to_have_count(3)  # 3 steps as rows
    expect(grid.locator("tbody tr").nth(0)).to_have_attribute("aria-label", "Step Fetch")
    failed_run_cells = grid.locator("tbody tr").nth(1).locator("td")  # step "check"
    # oldest run left: run 1 completed, run 2 failed, run 3 completed
    statuses = [failed_run_cells.nth(i).locator("a").get_attribute("data-status") for i in range(3)]
    assert statuses == ["completed", "failed", "completed"]
    for i, colour in ((0, "green"), (1, "red"), (2, "green")):
        assert _same_colour(failed_run_cells.nth(i).locator("a > div"), colour)
    publish = grid.locator("tbody tr").nth(2).locator("td").nth(1)
    expect(publish.locator("a")).not_to_have_attribute("data-status", "completed")

    chart = page.get_by_role("figure", name="Durations of recent jobs")
    labels = chart.locator(".recharts-label")  # recharts 3 draws labels in a layer of their own
    expect(labels.filter(has_text=re.compile(r"^Run$"))).to_have_count(1)
    expect(labels.filter(has_text="Duration (s)")).to_have_count(1)
    expect(chart.locator(".recharts-xAxis-tick-labels")).to_contain_text("#3")
    expect(chart.locator(".recharts-yAxis-tick-labels")).to_contain_text(re.compile(r"\d"))
    section = page.get_by_role("region", name="Durations of recent jobs")
    chart_box, section_box = chart.bounding_box(), section.bounding_box()
    assert chart_box and section_box and chart_box["width"] > 0.9 * (section_box["width"] - 40)
    chart.locator(".recharts-bar-rectangle").last.hover()  # the hover names run, status, duration
    expect(chart.locator(".recharts-tooltip-wrapper")).to_contain_text(
        re.compile(r"#\d(Completed|Failed) : \d+(\.\d+)? s")
    )
    snap(page, artifacts_dir, "workflow-runs-grid")

    cell = failed_run_cells.nth(1).locator("a")
    expect(cell).to_have_attribute("href", f"/jobs/{jobs[1]['id']}?step=check")
    cell.click()
    page.wait_for_url(re.compile(rf"/jobs/{jobs[1]['id']}\?step=check$"))
    details = page.get_by_role("region", name="Step details")
    expect(details.get_by_role("heading", name=re.compile(r"\d+\. check$", re.I))).to_be_visible()
    expect(
        page.get_by_role("button", name=re.compile(r"^Step \d+ check$", re.I))
    ).to_have_attribute("aria-pressed", "true")
    snap(page, artifacts_dir, "job-step-from-grid")


def test_workers_page_and_a_pending_job_says_why(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    name = f"nap_{uuid.uuid4().hex[:6]}"
    _register(api, {"name": name, "steps": [{"key": "nap", "action": "test.sleep"}]})
    sleepers = [start_job(api, name, {"sleep": 30}) for _ in range(2)]  # both workers busy
    for job in sleepers:
        wait_step_status(api, job["id"], "nap", "running")
    waiting = start_job(api, name, {"sleep": 0})
    try:
        page.goto(f"/jobs/{waiting['id']}")
        expect(page.get_by_role("region", name="Job info")).to_be_visible(timeout=30_000)
        why = page.get_by_role("status", name="Why this job is pending")
        expect(why).to_contain_text("2 workers, both busy", timeout=10_000)
        snap(page, artifacts_dir, "job-pending-why")

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Workers").click()
        page.wait_for_url(re.compile(r"/workers$"))
        workers = page.get_by_role("region", name="Workers", exact=True).locator("tbody tr")
        expect(workers).to_have_count(2)
        for i in range(2):
            row = workers.nth(i)
            expect(row).to_contain_text("busy")
            expect(row.get_by_role("link", name=f"{name}: nap (attempt 1)")).to_be_visible()
            expect(row.get_by_label(re.compile(r"^Heartbeat \d"))).to_contain_text("ago")
            expect(row).to_contain_text(re.compile(r"\d{3,}"))  # the pid
        queue = page.get_by_role("region", name="Queues").locator("tbody tr").first
        expect(queue.get_by_label(re.compile("^Depth of"))).to_have_text(re.compile(r"^[1-9]\d*$"))
        expect(queue).to_contain_text("2 (2 busy)")
        expect(page.get_by_role("status", name="Why a pending job waits")).to_contain_text(
            "2 workers, both busy"
        )
        expect(page.get_by_role("region", name="Reaper recoveries")).to_contain_text("Last pass")
        snap(page, artifacts_dir, "workers")

        api.post(f"/jobs/{waiting['id']}/cancel")  # 409 if a worker took it meanwhile
        wait_status(api, waiting["id"], "cancelled", "running", "completed")
        page.goto(f"/jobs/{waiting['id']}")
        expect(page.get_by_role("region", name="Job info")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("status", name="Why this job is pending")).to_have_count(0)
    finally:
        for job in (*sleepers, waiting):
            api.post(f"/jobs/{job['id']}/cancel")
