"""CreateJobDialog: the schema form, inline validation, and a job followed live to Completed."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import open_new_job_dialog


def test_create_a_job_and_watch_it_complete_live(page: Page, artifacts_dir: Path) -> None:
    page.goto("/jobs")
    open_new_job_dialog(page, "basic_sequence")
    dialog = page.get_by_role("dialog", name="New job")
    expect(dialog.get_by_label("Records", exact=True)).to_have_value("200")  # the schema's default
    dialog.get_by_label("Records", exact=True).fill("50")
    # each step takes 2 s: the job still runs when its page opens, even on a loaded machine
    dialog.get_by_label("Delay seconds").fill("2")
    page.screenshot(path=str(artifacts_dir / "create-job-dialog.png"))
    dialog.get_by_role("button", name="Start job").click()

    toast = page.get_by_text(re.compile(r"Job [0-9a-f]{8} started"))
    expect(toast).to_be_visible()
    page.get_by_role("button", name="View job").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    page.evaluate("window.__same_document = true")  # a reload or navigation would drop it

    info = page.get_by_role("region", name="Job info")
    expect(info.get_by_text("Running", exact=True)).to_be_visible(timeout=10_000)
    expect(page.get_by_text("Live", exact=True)).to_be_visible()
    expect(info.get_by_text("Completed", exact=True)).to_be_visible(timeout=60_000)
    assert page.evaluate("window.__same_document") is True
    steps = page.get_by_role("group", name="Steps").get_by_role("button")
    expect(steps).to_have_count(3)
    for i in range(3):
        expect(steps.nth(i)).to_have_attribute("data-status", "completed")
    expect(info.get_by_text('"records": 50')).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "job-detail-completed.png"), full_page=True)


def test_the_form_rejects_invalid_input_inline(page: Page, api: httpx.Client) -> None:
    before = api.get("/jobs/counts").json()["total"]
    page.goto("/jobs")
    open_new_job_dialog(page, "basic_sequence")
    dialog = page.get_by_role("dialog", name="New job")
    records = dialog.get_by_label("Records", exact=True)

    records.fill("abc")
    dialog.get_by_role("button", name="Start job").click()
    expect(dialog.get_by_text("Enter a whole number")).to_be_visible()
    expect(records).to_have_attribute("aria-invalid", "true")

    records.fill("0")
    dialog.get_by_role("button", name="Start job").click()
    expect(dialog.get_by_text("Must be at least 1")).to_be_visible()

    records.fill("")  # optional with a default: leaving it empty is fine; seed must be a number
    dialog.get_by_label("Seed", exact=True).fill("1.5")
    dialog.get_by_role("button", name="Start job").click()
    expect(dialog.get_by_text("Enter a whole number")).to_be_visible()

    # the JSON tab is validated by the API: its 422 is shown in the dialog
    dialog.get_by_role("tab", name="JSON").click()
    dialog.get_by_label("Input JSON").fill('{"records": -5}')
    dialog.get_by_role("button", name="Start job").click()
    expect(dialog.get_by_role("alert").filter(has_text="records")).to_be_visible()
    expect(dialog).to_be_visible()
    assert api.get("/jobs/counts").json()["total"] == before


def test_a_script_in_the_payload_renders_as_text(page: Page, api: httpx.Client) -> None:
    payload = '{"records": 5, "note": "<script>window.__xss = 1</script><img src=x onerror=\\"window.__xss = 2\\">"}'
    page.goto("/jobs")
    open_new_job_dialog(page, "basic_sequence")
    dialog = page.get_by_role("dialog", name="New job")
    dialog.get_by_role("tab", name="JSON").click()
    dialog.get_by_label("Input JSON").fill(payload)
    dialog.get_by_role("button", name="Start job").click()
    page.get_by_role("button", name="View job").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    info = page.get_by_role("region", name="Job info")
    expect(info.get_by_text("<script>window.__xss = 1</script>", exact=False)).to_be_visible()
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0
