"""Investigating runs in the browser: the Compare page (from two rows of the list and from a
job's page), the search box's syntax with a saved view, Re-run from here, and the Failures
page with its nav badge (acknowledge, resolve, reopen on a new failure, re-run all)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import start_job, wait_status


def row(page: Page, job_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-job-id="{job_id}"]')


def _finished(api: httpx.Client, workflow: str, payload: dict) -> dict:  # type: ignore[type-arg]
    job = start_job(api, workflow, payload)
    return wait_status(api, job["id"], "completed", "failed", timeout=60)


def test_compare_two_runs_from_the_list_and_from_a_job(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    a = _finished(api, "basic_sequence", {"records": 40, "seed": 1})
    b = _finished(api, "basic_sequence", {"records": 40, "seed": 2})
    page.goto("/jobs")
    for job in (a, b):
        row(page, job["id"]).get_by_role("checkbox").click()
    page.get_by_role("button", name="Compare selected").click()
    expect(page).to_have_url(re.compile(r"/compare\?a="))
    summary = page.get_by_role("status", name="First divergence")
    expect(summary).to_contain_text("differ", timeout=20_000)
    inputs = page.get_by_role("region", name="Input differences")
    expect(inputs).to_contain_text("$.seed")
    first = page.locator('tr[data-first-divergence="true"]')
    expect(first).to_have_count(1)
    expect(first).to_contain_text("first divergence")
    page.screenshot(path=str(artifacts_dir / "compare.png"), full_page=True)

    page.goto(f"/jobs/{a['id']}")
    page.get_by_role("button", name="Compare with…").click()
    expect(page).to_have_url(re.compile(rf"/compare\?a={a['id']}$"))
    page.get_by_label("Pick run B").select_option(b["id"])
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.get_by_role("status", name="First divergence")).to_contain_text(
        "differ", timeout=20_000
    )
    expect(page.get_by_role("region", name="Steps side by side")).to_contain_text("initialize")


def test_search_syntax_and_a_saved_view(page: Page, api: httpx.Client) -> None:
    marker = 300 + uuid.uuid4().int % 600
    hit = _finished(api, "basic_sequence", {"records": marker})
    miss = _finished(api, "basic_sequence", {"records": marker + 1})
    page.goto("/jobs")
    search = page.get_by_label("Search jobs")
    search.fill(f"input.records={marker}")
    expect(row(page, hit["id"])).to_be_visible()
    expect(row(page, miss["id"])).to_have_count(0)
    search.fill(f"input.records>={marker} input.records<={marker + 1} status=completed")
    expect(row(page, miss["id"])).to_be_visible()
    expect(page.locator("tr[data-job-id]")).to_have_count(2)
    page.get_by_role("button", name="Search help").click()
    expect(page.get_by_label("Search syntax")).to_contain_text("error_type=ValueError")
    page.keyboard.press("Escape")
    search.fill(f"input.records={marker}")
    expect(page.locator("tr[data-job-id]")).to_have_count(1)
    page.get_by_role("button", name="Save view").click()
    page.get_by_label("Name").fill(f"records {marker}")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("button", name="Views").click()
    page.get_by_role("menuitem", name=f"records {marker}").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/jobs\?q="))
    expect(row(page, hit["id"])).to_be_visible()
    expect(page.locator("tr[data-job-id]")).to_have_count(1)


def test_rerun_from_a_step_with_the_form_prefilled(page: Page, api: httpx.Client) -> None:
    payload = {"records": 25, "fail_step": "process", "fail_times": 3}
    original = _finished(api, "basic_sequence", payload)
    assert original["status"] == "failed"
    page.goto(f"/jobs/{original['id']}")
    page.get_by_role("button", name="Step 2 Process", exact=True).click()
    page.get_by_role("button", name="Re-run from here").click()
    expect(page.get_by_role("textbox", name="Records")).to_have_value("25")
    fail_times = page.get_by_role("textbox", name="Fail times")
    expect(fail_times).to_have_value("3")
    fail_times.fill("0")
    page.get_by_role("button", name="Re-run", exact=True).click()
    expect(page).not_to_have_url(re.compile(original["id"]), timeout=10_000)
    new_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    done = wait_status(api, new_id, "completed", timeout=60)
    assert done["input_payload"]["fail_times"] == 0 and done["rerun_of"] == original["id"]
    assert done["input_payload"]["records"] == 25
    steps = {s["step_key"]: s for s in api.get(f"/jobs/{new_id}/steps").json()["steps"]}
    assert steps["initialize"]["reused_from_job_id"] == original["id"]
    assert api.get(f"/jobs/{new_id}/steps/initialize/attempts").json()["attempts"] == []
    page.get_by_role("button", name="Step 1 Initialize", exact=True).click()
    expect(page.get_by_role("region", name="Step details")).to_contain_text(
        "Reused (not run again)"
    )


def test_failures_page_with_its_badge(page: Page, api: httpx.Client, artifacts_dir: Path) -> None:
    name = f"e2e_failing_{uuid.uuid4().hex[:6]}"
    failing = {
        "name": name,
        "steps": [{"key": "boom", "action": "test.flaky", "params": {"fail_times": 9}}],
    }
    assert api.post("/workflows", json=failing).status_code in (200, 201)
    first = _finished(api, name, {})
    assert first["status"] == "failed"
    page.goto("/failures")
    group = page.locator("tr[data-fingerprint]", has_text=name)
    expect(group).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Failures, [1-9]\d* open$"))).to_be_visible()
    open_before = int(
        str(
            page.get_by_role("link", name=re.compile("^Failures")).get_attribute("aria-label")
        ).split()[1]
    )
    group.get_by_role("button", name="Open").click()
    detail = page.get_by_role("region", name="Failure group")
    expect(detail).to_contain_text("planned failure")
    detail.get_by_role("button", name="Acknowledge").click()
    expect(group).to_have_count(0)  # no longer in the Open tab
    page.get_by_role("tab", name="Acknowledged").click()
    expect(group).to_have_attribute("data-status", "acknowledged")
    group.get_by_role("button", name="Open").click()
    detail.get_by_label("Assignee").fill("alice")
    detail.get_by_role("button", name="Assign").click()
    expect(group).to_contain_text("alice")
    detail.get_by_role("button", name="Resolve").click()
    expect(group).to_have_count(0)
    expect(page.get_by_role("link", name=f"Failures, {open_before - 1} open")).to_be_visible()
    _finished(api, name, {})  # it happens again: the group reopens
    page.get_by_role("tab", name="Open").click()
    expect(group).to_have_attribute("data-status", "reopened")
    page.screenshot(path=str(artifacts_dir / "failures.png"), full_page=True)
    fixed = {"name": name, "steps": [{"key": "boom", "action": "test.noop"}]}
    assert api.post("/workflows", json=fixed).status_code in (200, 201)
    group.get_by_role("button", name="Open").click()
    detail.get_by_role("button", name="Re-run all 2").click()
    expect(detail.get_by_role("link", name="re-run")).to_have_count(2, timeout=10_000)
