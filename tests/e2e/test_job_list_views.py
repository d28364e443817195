"""The job list's view in the URL (Back, reload, a shared link), the sortable Created column,
the created-date range, the Cancel confirmation, and the keyboard shortcuts."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import snap, start_job, wait_status, wait_step_status

ROWS = "tbody tr[data-job-id]"


def tagged_jobs(api: httpx.Client, count: int, **extra: Any) -> tuple[str, list[str]]:
    """`count` quick jobs sharing an input seed no other test uses; returns the search that
    finds exactly them and their ids, oldest first."""
    seed = random.randint(10**8, 10**9)
    ids = [
        start_job(api, "basic_sequence", {"records": 1, "seed": seed, **extra})["id"]
        for _ in range(count)
    ]
    return f"input.seed={seed}", ids


def row_ids(page: Page) -> list[str]:
    return [str(r.get_attribute("data-job-id")) for r in page.locator(ROWS).all()]


def shown(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("status", name="Jobs shown")


def test_back_reload_and_a_shared_link_keep_the_filtered_view(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    search, ids = tagged_jobs(api, 12)
    page.goto("/jobs")
    page.get_by_label("Search jobs").fill(search)
    expect(shown(page)).to_have_text("1-12 of 12")
    page.get_by_label("Rows per page").select_option("10")
    expect(shown(page)).to_have_text("1-10 of 12")
    page.get_by_role("button", name="Next page").click()
    expect(shown(page)).to_have_text("11-12 of 12")
    expect(page).to_have_url(re.compile(r"/jobs\?q=input\.seed%3D\d+&page=2&size=10$"))
    view_url = page.url
    on_page_two = row_ids(page)
    assert sorted(on_page_two) == sorted(ids[:2]), "newest first: the two oldest on page 2"
    snap(page, artifacts_dir, "job-list-filtered")

    page.locator(ROWS).first.get_by_role("link", name=re.compile(r"^Job ")).click()
    page.wait_for_url(f"**/jobs/{on_page_two[0]}")
    page.go_back()
    expect(page).to_have_url(view_url)
    expect(shown(page)).to_have_text("11-12 of 12")
    expect(page.get_by_label("Search jobs")).to_have_value(search)
    expect(page.get_by_label("Rows per page")).to_have_value("10")
    assert row_ids(page) == on_page_two

    page.go_back()  # one entry per change: page 1 of the same search
    expect(shown(page)).to_have_text("1-10 of 12")
    page.go_forward()
    expect(shown(page)).to_have_text("11-12 of 12")

    page.reload()
    expect(shown(page)).to_have_text("11-12 of 12")
    expect(page.get_by_label("Search jobs")).to_have_value(search)

    other = page.context.new_page()  # a shared link, in a tab with no state of its own
    other.goto(view_url)
    expect(shown(other)).to_have_text("11-12 of 12")
    expect(other.get_by_label("Search jobs")).to_have_value(search)
    assert sorted(row_ids(other)) == sorted(on_page_two)
    other.goto(view_url.replace("page=2", "page=9"))  # past the end: an empty page, not "no jobs"
    expect(other.get_by_text("No jobs match.")).to_be_visible()
    other.close()


def test_typing_a_search_keeps_focus_and_makes_one_history_entry(
    page: Page, api: httpx.Client
) -> None:
    search, _ = tagged_jobs(api, 1)
    page.goto("/jobs?status=all")
    box = page.get_by_label("Search jobs")
    box.press_sequentially(search, delay=40)
    expect(page.locator(ROWS)).to_have_count(1)
    expect(box).to_be_focused()
    expect(box).to_have_value(search)
    expect(page).to_have_url(re.compile(r"/jobs\?q=input\.seed%3D\d+$"))
    page.go_back()
    expect(box).to_have_value("")
    expect(page.locator(ROWS).first).to_be_visible()


def test_the_tab_is_in_the_url(page: Page, api: httpx.Client) -> None:
    search, ids = tagged_jobs(api, 1)
    wait_status(api, ids[0], "completed")
    page.goto("/jobs?q=" + search.replace("=", "%3D"))
    page.get_by_role("tab", name=re.compile(r"^Failed \d+$")).click()
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(page.get_by_text("No jobs match.")).to_be_visible()
    page.go_back()
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.get_by_role("tab", name=re.compile(r"^All \d+$"))).to_have_attribute(
        "aria-selected", "true"
    )


def test_sort_by_created(page: Page, api: httpx.Client) -> None:
    search, ids = tagged_jobs(api, 3)
    page.goto("/jobs?q=" + search.replace("=", "%3D"))
    expect(page.locator(ROWS)).to_have_count(3)
    assert row_ids(page) == ids[::-1]
    header = page.get_by_role("columnheader", name=re.compile("^Created"))
    expect(header).to_have_attribute("aria-sort", "descending")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(page).to_have_url(re.compile(r"sort=oldest"))
    expect(page.locator(ROWS).first).to_have_attribute("data-job-id", ids[0])
    assert row_ids(page) == ids
    page.reload()
    expect(page.locator(ROWS).first).to_have_attribute("data-job-id", ids[0])
    header.get_by_role("button").click()
    expect(page.locator(ROWS).first).to_have_attribute("data-job-id", ids[-1])


def test_created_date_range(page: Page, api: httpx.Client, artifacts_dir: Path) -> None:
    search, _ = tagged_jobs(api, 2)
    today = datetime.now(UTC).date()
    page.goto("/jobs?q=" + search.replace("=", "%3D"))
    expect(page.locator(ROWS)).to_have_count(2)
    page.get_by_label("Created from").fill((today + timedelta(days=1)).isoformat())
    expect(page.get_by_text("No jobs match.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"from={today + timedelta(days=1)}"))
    page.get_by_label("Created from").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("to", exact=True).fill(today.isoformat())
    expect(page.locator(ROWS)).to_have_count(2)
    expect(page).to_have_url(re.compile(rf"from={today - timedelta(days=1)}&to={today}"))
    snap(page, artifacts_dir, "job-list-date-range")
    page.get_by_label("to", exact=True).fill((today - timedelta(days=1)).isoformat())
    expect(page.get_by_text("No jobs match.")).to_be_visible()
    page.get_by_role("button", name="Clear the date range").click()
    expect(page.locator(ROWS)).to_have_count(2)
    expect(page).not_to_have_url(re.compile("from=|to="))


def test_cancel_asks_first_on_the_job_page_and_in_the_row_menu(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    job = start_job(api, "basic_sequence", {"records": 5, "delay_seconds": 30})
    wait_step_status(api, job["id"], "initialize", "running")
    page.goto(f"/jobs/{job['id']}")
    info = page.get_by_role("region", name="Job info")
    info.get_by_role("button", name="Cancel").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(f"Cancel job {job['id'][:8]}?")
    expect(dialog).to_contain_text("The running step is interrupted at its worker's next heartbeat")
    snap(page, artifacts_dir, "job-cancel-confirm")
    dialog.get_by_role("button", name="Keep it running").click()
    expect(dialog).to_have_count(0)
    page.wait_for_timeout(500)
    assert wait_status(api, job["id"], "running")["status"] == "running"

    info.get_by_role("button", name="Cancel").click()
    dialog.get_by_role("button", name="Yes, cancel job").click()
    expect(info.get_by_text("Cancelled", exact=True)).to_be_visible(timeout=10_000)
    wait_status(api, job["id"], "cancelled")

    other = start_job(api, "basic_sequence", {"records": 5, "delay_seconds": 30})
    page.goto("/jobs")
    page.get_by_role("button", name="Actions for job " + other["id"][:8]).click()
    page.get_by_role("menuitem", name="Cancel").click()
    expect(dialog).to_contain_text(f"Cancel job {other['id'][:8]}?")
    snap(page, artifacts_dir, "job-list-cancel-confirm")
    dialog.get_by_role("button", name="Keep it running").click()
    page.wait_for_timeout(500)
    assert wait_status(api, other["id"], "pending", "running")["status"] in ("pending", "running")
    page.get_by_role("button", name="Actions for job " + other["id"][:8]).click()
    page.get_by_role("menuitem", name="Cancel").click()
    dialog.get_by_role("button", name="Yes, cancel job").click()
    expect(page.locator(f'tr[data-job-id="{other["id"]}"]')).to_have_attribute(
        "data-status", "cancelled"
    )
    wait_status(api, other["id"], "cancelled")


def test_keyboard_shortcuts(page: Page, api: httpx.Client) -> None:
    search, ids = tagged_jobs(api, 3)
    page.goto("/jobs?q=" + search.replace("=", "%3D"))
    expect(page.locator(ROWS)).to_have_count(3)
    box = page.get_by_label("Search jobs")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.press("Escape")
    expect(box).not_to_be_focused()
    current = page.locator(f"{ROWS}[data-kbd-current]")
    page.keyboard.press("j")
    expect(current).to_have_attribute("data-job-id", ids[2])
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stays on the last row
    expect(current).to_have_attribute("data-job-id", ids[0])
    page.keyboard.press("k")
    expect(current).to_have_attribute("data-job-id", ids[1])
    expect(page.locator(ROWS)).to_have_count(3)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/jobs/{ids[1]}")
    page.go_back()
    expect(page.locator(ROWS)).to_have_count(3)
    box.fill("")
    box.press("j")  # typed into the search box: text, not a move
    expect(box).to_have_value("j")


def test_keyboard_moves_through_the_workflow_list(page: Page) -> None:
    page.goto("/workflows")
    rows = page.locator("tr[data-kbd-row]")
    expect(rows.first).to_be_visible()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_attribute("data-kbd-current", "")
    name = rows.nth(1).get_attribute("data-workflow")
    page.keyboard.press("Enter")
    page.wait_for_url("**/workflows/*")
    expect(page.get_by_role("heading", level=1)).to_contain_text(str(name))
