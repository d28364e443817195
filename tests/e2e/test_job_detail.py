"""JobDetailView: cancel, a failure with its retry history, resume, re-run, the log export,
and the not-found page."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import attempts, start_job, wait_status, wait_step_status


def info(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("region", name="Job info")


def step(page: Page, index: int, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("button", name=f"Step {index} {name}", exact=True)


def test_cancel_a_running_job(page: Page, api: httpx.Client) -> None:
    job = start_job(api, "basic_sequence", {"records": 20, "delay_seconds": 20})
    wait_step_status(api, job["id"], "initialize", "running")
    page.goto(f"/jobs/{job['id']}")
    expect(info(page).get_by_text("Running", exact=True)).to_be_visible()
    expect(step(page, 1, "Initialize")).to_have_attribute("data-status", "running")
    info(page).get_by_role("button", name="Cancel").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Yes, cancel job").click()
    expect(info(page).get_by_text("Cancelled", exact=True)).to_be_visible(timeout=10_000)
    expect(step(page, 1, "Initialize")).to_have_attribute("data-status", "cancelled")
    expect(info(page).get_by_role("button", name="Resume")).to_be_visible()
    assert wait_status(api, job["id"], "cancelled")["status"] == "cancelled"


def test_a_failure_shows_its_error_and_history_then_resume_completes(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    job = start_job(api, "basic_sequence", {"records": 20, "fail_step": "process", "fail_times": 3})
    page.goto(f"/jobs/{job['id']}")
    alert = info(page).get_by_role("alert")
    expect(alert).to_contain_text("Job failed", timeout=20_000)
    expect(step(page, 2, "Process")).to_have_attribute("data-status", "failed")
    step(page, 2, "Process").click()
    details = page.get_by_role("region", name="Step details")
    history = details.get_by_role("list", name="Retry history")
    expect(history.get_by_role("listitem")).to_have_count(3)
    expect(history).to_contain_text("planned failure")
    page.screenshot(path=str(artifacts_dir / "job-detail-failed.png"), full_page=True)
    first_attempts = attempts(api, job["id"], "initialize")

    info(page).get_by_role("button", name="Resume").click()
    expect(info(page).get_by_text("Completed", exact=True)).to_be_visible(timeout=20_000)
    expect(step(page, 2, "Process")).to_have_attribute("data-status", "completed")
    expect(history.get_by_role("listitem")).to_have_count(4)
    assert attempts(api, job["id"], "initialize") == first_attempts  # not run again
    expect(step(page, 1, "Initialize")).to_contain_text("1 attempt")


def test_rerun_opens_a_new_job_with_the_same_input(page: Page, api: httpx.Client) -> None:
    job = start_job(api, "basic_sequence", {"records": 7})
    wait_status(api, job["id"], "completed")
    page.goto(f"/jobs/{job['id']}")
    info(page).get_by_role("button", name="Re-run").click()
    page.wait_for_url(re.compile(r"/jobs/(?!" + job["id"] + r")[0-9a-f-]{36}$"))
    new_id = page.url.rsplit("/", 1)[1]
    expect(info(page).get_by_text("Re-run of " + job["id"][:8])).to_be_visible()
    expect(info(page).get_by_text('"records": 7')).to_be_visible()
    assert api.get(f"/jobs/{new_id}").json()["rerun_of"] == job["id"]


def test_download_logs_gives_the_json_export(page: Page, api: httpx.Client, tmp_path: Path) -> None:
    job = start_job(api, "parallel_processing", {"records": 10})
    wait_status(api, job["id"], "completed", "failed")
    page.goto(f"/jobs/{job['id']}")
    with page.expect_download() as download_info:
        info(page).get_by_role("button", name="Download logs").click()
    download = download_info.value
    assert download.suggested_filename == f"job-{job['id']}.json"
    path = tmp_path / "export.json"
    download.save_as(path)
    document = json.loads(path.read_text())
    steps = api.get(f"/jobs/{job['id']}/steps").json()["steps"]
    exported = json.dumps(document)
    assert str(document["job"]["id"]) == job["id"]
    for s in steps:
        assert s["step_id"] in exported


def test_unknown_job_shows_not_found(page: Page) -> None:
    page.goto(f"/jobs/{uuid.uuid4()}")
    expect(page.get_by_role("heading", name="Job not found")).to_be_visible()
    page.get_by_role("link", name="Back to jobs").click()
    page.wait_for_url("**/jobs")


def test_step_details_show_what_the_step_was_given(page: Page, api: httpx.Client) -> None:
    """The step's recorded input: its params and the upstream outputs it was given."""
    job = start_job(api, "basic_sequence", {"records": 5})
    wait_status(api, job["id"], "completed", timeout=60)
    given = api.get(f"/jobs/{job['id']}/steps").json()["steps"][1]["input_data"]
    assert set(given) == {"params", "upstream"} and list(given["upstream"]) == ["initialize"]
    page.goto(f"/jobs/{job['id']}")
    step(page, 2, "Process").click()
    details = page.get_by_role("region", name="Step details")
    details.get_by_text("Input", exact=True).click()
    shown = details.locator("details", has_text="Input").locator("pre, code").first
    expect(shown).to_contain_text('"upstream"')
    expect(shown).to_contain_text('"initialize"')
