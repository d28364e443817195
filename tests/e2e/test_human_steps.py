"""A person runs memory_first_v2 from the web monitor: creates the job, executes `proposals`
from its Execute form, approves some proposals and rejects others, patches one, submits, and
`apply` uses exactly the approved items. A second reviewer's page and the job list follow
along without a reload."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import open_new_job_dialog, wait_status, wait_step_status


def test_a_person_executes_reviews_and_submits(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    page.goto("/jobs")
    open_new_job_dialog(page, "memory_first_v2")
    dialog = page.get_by_role("dialog", name="New job")
    dialog.get_by_label("Records", exact=True).fill("40")
    dialog.get_by_role("button", name="Start job").click()
    page.get_by_role("button", name="View job").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    job_id = page.url.rstrip("/").rpartition("/")[2]

    panel = page.get_by_role("region", name="Waiting for you")
    execute = panel.get_by_role("button", name="Execute Proposals")
    expect(execute).to_be_visible(timeout=30_000)
    execute.click()
    form = page.get_by_role("dialog", name="Execute Proposals")
    expect(form.get_by_label("Limit", exact=True)).to_have_value("50")  # the step schema's default
    form.get_by_label("Limit", exact=True).fill("0")
    form.get_by_role("button", name="Run step").click()
    expect(form.get_by_text("Must be at least 1")).to_be_visible()
    form.get_by_label("Limit", exact=True).fill("12")
    form.get_by_label("Provider").select_option("openai")
    page.screenshot(path=str(artifacts_dir / "execute-proposals.png"))
    form.get_by_role("button", name="Run step").click()
    expect(page.get_by_text("Proposals: Generated 12 proposal(s)")).to_be_visible(timeout=40_000)
    wait_step_status(api, job_id, "review", "waiting")
    counts = panel.get_by_label("Review counts")
    expect(counts.get_by_text("12 undecided")).to_be_visible(timeout=20_000)
    ids = [i["id"] for i in api.get(f"/jobs/{job_id}/review", params={"limit": 50}).json()["items"]]
    assert len(ids) == 12

    # a second reviewer: the list shows the job as waiting for review, its page follows live
    other = page.context.new_page()
    other.goto("/jobs?status=waiting")
    row = other.locator(f'[data-job-id="{job_id}"]')
    expect(row.get_by_text("Waiting for review")).to_be_visible(timeout=20_000)
    other.goto(f"/jobs/{job_id}")
    other_counts = other.get_by_role("region", name="Waiting for you").get_by_label("Review counts")
    expect(other_counts.get_by_text("0 approved")).to_be_visible(timeout=20_000)

    for item in ids[:3]:
        panel.get_by_label(f"Select {item}").click()
    panel.get_by_role("button", name="Approve selected").click()
    expect(counts.get_by_text("3 approved")).to_be_visible(timeout=10_000)
    expect(other_counts.get_by_text("3 approved")).to_be_visible(timeout=10_000)  # no reload
    for item in ids[3:5]:
        panel.get_by_label(f"Select {item}").click()
    panel.get_by_role("button", name="Reject selected").click()
    expect(counts.get_by_text("2 rejected")).to_be_visible(timeout=10_000)

    panel.get_by_label(f"Edit {ids[0]}").click()
    editor = panel.get_by_label(f"Editable fields of {ids[0]}")
    editor.fill(json.dumps({"ontology": {"type": "tag", "tags": ["e2e-checked"], "links": []}}))
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_text("e2e-checked")).to_be_visible(timeout=10_000)
    expect(panel.get_by_text("Edited", exact=True)).to_be_visible()

    panel.get_by_label("Search items").fill(ids[1])
    expect(panel.get_by_text("1-1 of 1")).to_be_visible(timeout=10_000)
    panel.get_by_label("Search items").fill("")
    expect(panel.get_by_text("1-10 of 12")).to_be_visible(timeout=10_000)
    page.screenshot(path=str(artifacts_dir / "review-panel.png"), full_page=True)

    expect(panel.get_by_role("button", name="Submit review")).to_be_disabled()  # 7 undecided
    panel.get_by_role("button", name="Submit, rejecting undecided").click()
    expect(page.get_by_text("Review submitted")).to_be_visible(timeout=10_000)
    done = wait_status(api, job_id, "completed", "failed", timeout=60)
    assert done["status"] == "completed", done["error_message"]
    assert done["draft_state"] == "applied"
    steps = {s["step_key"]: s for s in api.get(f"/jobs/{job_id}/steps").json()["steps"]}
    applied = steps["apply"]["output_data"]
    assert applied["applied_ids"] == ids[:3] and applied["applied"] == 3
    reviewed = {i["id"]: i for i in steps["review"]["output_data"]["items"]}
    assert reviewed[ids[0]]["ontology"]["tags"] == ["e2e-checked"]
    assert [i for i, r in reviewed.items() if r["decision"] == "approved"] == ids[:3]
    info = page.get_by_role("region", name="Job info")
    expect(info.get_by_text("Completed", exact=True).first).to_be_visible(timeout=20_000)
    expect(info.get_by_text("Applied", exact=True)).to_be_visible(timeout=10_000)  # draft state
    expect(panel.get_by_text("Submitted", exact=True)).to_be_visible()
    other.close()
