"""JobListView: tab counts that follow status changes live, search, bulk cancel."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import start_job, wait_status


def tab(page: Page, label: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("tab", name=re.compile(rf"^{label} \d+$"))


def count(page: Page, label: str) -> int:
    return int(str(tab(page, label).get_attribute("aria-label")).split()[-1])


def row(page: Page, job_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-job-id="{job_id}"]')


def test_tabs_and_counts_follow_status_changes(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    page.goto("/jobs")
    expect(tab(page, "All")).to_be_visible()
    completed = count(page, "Completed")
    job = start_job(api, "basic_sequence", {"records": 10, "delay_seconds": 1.5})
    expect(row(page, job["id"])).to_be_visible()
    expect(row(page, job["id"])).to_have_attribute("data-status", "running", timeout=10_000)
    expect(tab(page, "Running")).not_to_have_accessible_name("Running 0")
    chip = row(page, job["id"]).locator(".jm-pulse").first
    expect(chip).to_have_css("animation-name", "none")  # these tests ask for reduced motion
    page.emulate_media(reduced_motion="no-preference")
    expect(chip).to_have_css("animation-name", "jm-pulse")  # a running chip pulses by default
    page.emulate_media(reduced_motion="reduce")
    page.screenshot(path=str(artifacts_dir / "job-list.png"), full_page=True)
    expect(row(page, job["id"])).to_have_attribute("data-status", "completed", timeout=20_000)
    expect(tab(page, "Completed")).to_have_accessible_name(f"Completed {completed + 1}")

    tab(page, "Completed").click()
    expect(row(page, job["id"])).to_be_visible()
    tab(page, "Failed").click()
    expect(row(page, job["id"])).to_have_count(0)


def test_search_by_workflow_name_and_job_id(page: Page, api: httpx.Client) -> None:
    a = start_job(api, "data_pipeline", {"records": 5})
    b = start_job(api, "conditional_workflow", {"records": 5})
    page.goto("/jobs")
    expect(row(page, b["id"])).to_be_visible()  # the page is live before typing
    search = page.get_by_label("Search jobs")
    search.fill("data_pipe")
    expect(row(page, a["id"])).to_be_visible()
    expect(row(page, b["id"])).to_have_count(0)
    search.fill(b["id"][:8])
    expect(row(page, b["id"])).to_be_visible()
    expect(page.locator("tr[data-job-id]")).to_have_count(1)
    search.fill("no-such-workflow-anywhere")
    expect(page.get_by_text("No jobs match.")).to_be_visible()


def test_bulk_cancel(page: Page, api: httpx.Client) -> None:
    done = start_job(api, "basic_sequence", {"records": 5})
    wait_status(api, done["id"], "completed")
    jobs = [start_job(api, "basic_sequence", {"records": 5, "delay_seconds": 30}) for _ in range(2)]
    page.goto("/jobs")
    for j in [*jobs, done]:
        row(page, j["id"]).get_by_role("checkbox").click()
    page.get_by_role("button", name="Cancel selected").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Cancel 3 selected jobs?")
    confirm.get_by_role("button", name="Yes, cancel").click()
    summary = page.get_by_role("status", name="Bulk action result")
    expect(summary).to_contain_text("Cancelled 2 of 3 jobs.")
    expect(summary).to_contain_text(done["id"][:8])
    for j in jobs:
        expect(row(page, j["id"])).to_have_attribute("data-status", "cancelled")
        assert wait_status(api, j["id"], "cancelled")["status"] == "cancelled"


def test_row_actions_menu(page: Page, api: httpx.Client) -> None:
    job = start_job(api, "basic_sequence", {"records": 5, "delay_seconds": 30})
    menu = page.get_by_role("button", name="Actions for job " + job["id"][:8])
    page.goto("/jobs")
    menu.click()
    page.get_by_role("menuitem", name="Cancel").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Yes, cancel job").click()
    expect(page.get_by_text(f"Cancelled job {job['id'][:8]}")).to_be_visible()
    expect(row(page, job["id"])).to_have_attribute("data-status", "cancelled")
    menu.click()
    expect(page.get_by_role("menuitem")).to_have_text(["View", "Resume", "Re-run"])
    page.get_by_role("menuitem", name="View").click()
    page.wait_for_url(f"**/jobs/{job['id']}")


def _row_at_pointer(page: Page, x: float, y: float) -> str | None:
    return page.evaluate(  # type: ignore[no-any-return]
        "([x, y]) => document.elementFromPoint(x, y)?.closest('tr')?.dataset.jobId ?? null",
        [x, y],
    )


def test_a_new_job_never_moves_the_row_under_the_pointer(page: Page, api: httpx.Client) -> None:
    """Issue 19.6: a click on a row that had just moved opened the neighbouring job."""
    first = start_job(api, "basic_sequence", {"records": 5})
    page.goto("/jobs")
    target = row(page, first["id"])
    expect(target).to_be_visible()
    box = target.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_timeout(300)  # the pointer's arrival reaches the server
    newer = start_job(api, "basic_sequence", {"records": 5})
    expect(page.get_by_role("status").filter(has_text="new job")).to_be_visible(timeout=15_000)
    assert _row_at_pointer(page, x, y) == first["id"]
    expect(row(page, newer["id"])).to_have_count(0)
    handle = target.element_handle()
    page.mouse.move(5, 5)  # leaving the table shows the held job, on top
    expect(row(page, newer["id"])).to_be_visible(timeout=15_000)
    expect(page.locator("tbody tr").first).to_have_attribute("data-job-id", newer["id"])
    assert handle.get_attribute("data-job-id") == first["id"], "rows are keyed by job, not index"
