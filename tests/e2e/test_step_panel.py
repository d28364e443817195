"""The job page's step details panel (issue 15): the retry history fits the panel with every
error in view, a retrying step is followed attempt by attempt with its next-attempt time, a
picked attempt shows its own error and logs, the step's recorded input, the log level filter,
search and pause, the timeline's expandable error, and a cancelled step without a repeated
"cancelled". Screenshots at 1440x900 and 1024x768 go to test-artifacts/."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import snap, wait_status, wait_step_status

WAIT = 15_000  # ms: the machine the suite runs on may be busy

LONG_REASON = (
    "the upstream source answered 503 Service Unavailable for every one of the 12 partitions "
    "it was asked for, after waiting 30 s each; the last response body said the maintenance "
    "window ends at 10:00 UTC and the END-OF-ERROR marker is here"
)


def workflow(api: httpx.Client, steps: list[dict[str, Any]]) -> str:
    name = f"step_panel_{uuid.uuid4().hex[:8]}"
    response = api.post("/workflows", json={"name": name, "steps": steps})
    assert response.status_code in (200, 201), response.text
    return name


def run(api: httpx.Client, name: str) -> str:
    response = api.post("/jobs", json={"workflow": name, "input_payload": {}})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def retrying_workflow(api: httpx.Client, *, fail_times: int, backoff: float, seconds: float) -> str:
    return workflow(
        api,
        [
            {
                "key": "prepare",
                "name": "Prepare the partition manifest for the nightly warehouse load",
                "action": "test.noop",
            },
            {
                "key": "fetch",
                "name": "Fetch",
                "action": "test.retry_story",
                "depends_on": ["prepare"],
                "params": {"fail_times": fail_times, "seconds": seconds, "reason": LONG_REASON},
                "retry": {
                    "max_attempts": 3,
                    "backoff_seconds": backoff,
                    "factor": 1,
                    "max_backoff_seconds": backoff,
                },
            },
        ],
    )


def details(page: Page) -> Locator:
    return page.get_by_role("region", name="Step details")


def step_button(page: Page, index: int, name: str) -> Locator:
    return page.get_by_role("button", name=f"Step {index} {name}", exact=True)


def within(inner: dict[str, float] | None, outer: dict[str, float] | None) -> bool:
    assert inner and outer
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
    )


def test_retry_history_fits_the_panel_with_every_error_in_view(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    """Three failed attempts at 1440 px: each entry, its error and its duration lie inside
    the panel, which does not scroll sideways."""
    job_id = run(api, retrying_workflow(api, fail_times=9, backoff=0.2, seconds=0))
    wait_status(api, job_id, "failed", timeout=60)
    page.goto(f"/jobs/{job_id}")
    step_button(page, 2, "Fetch").click()
    panel = details(page)
    history = panel.get_by_role("list", name="Retry history")
    expect(history.get_by_role("listitem")).to_have_count(3, timeout=WAIT)
    box = panel.bounding_box()
    for entry in history.get_by_role("listitem").all():
        error = entry.locator(".jm-attempt-error")
        expect(error).to_contain_text("failed: the upstream source answered 503", timeout=WAIT)
        assert within(entry.bounding_box(), box)
        assert within(error.bounding_box(), box)
    overflow = panel.evaluate("el => el.scrollWidth - el.clientWidth")
    assert overflow <= 1, f"the step panel scrolls {overflow} px sideways"
    # long names wrap inside their cell instead of running into the next one
    step_button(page, 1, "Prepare the partition manifest for the nightly warehouse load").click()
    heading = panel.get_by_role("heading", name="1. Prepare the partition manifest")
    expect(heading).to_be_visible(timeout=WAIT)
    assert within(heading.bounding_box(), box)
    step_button(page, 2, "Fetch").click()
    expect(panel.get_by_role("group", name="Shown attempt")).to_contain_text(
        "Attempt 3 of 3", timeout=WAIT
    )
    snap(page, artifacts_dir, "step-panel-failed")


def test_a_retrying_step_is_followed_and_a_picked_attempt_stays(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    job_id = run(api, retrying_workflow(api, fail_times=2, backoff=10, seconds=1.5))
    page.goto(f"/jobs/{job_id}")
    panel = details(page)
    shown = panel.get_by_role("group", name="Shown attempt")
    expect(panel.get_by_role("heading", name="2. Fetch")).to_be_visible(timeout=20_000)

    # the backoff after attempt 1: the next attempt's time and a countdown
    next_attempt = panel.get_by_label("Next attempt")
    expect(next_attempt).to_contain_text(
        re.compile(r"Next attempt at \d\d:\d\d:\d\d \(in \d+ s\)"), timeout=20_000
    )
    expect(shown).to_contain_text("Attempt 1 of 3", timeout=WAIT)
    expect(panel.get_by_role("alert")).to_contain_text("attempt 1 failed", timeout=WAIT)
    first = next_attempt.inner_text()
    expect(next_attempt).not_to_have_text(first, timeout=5_000)  # the countdown ticks
    snap(page, artifacts_dir, "step-panel-retrying")

    # attempt 2 starts: followed without a click
    expect(shown).to_contain_text("Attempt 2 of 3", timeout=20_000)
    expect(panel.get_by_role("log")).to_contain_text("attempt 2: fetched 20 rows", timeout=WAIT)

    # pick attempt 1: its error, its logs, "Attempt 1 of 3", and it stays while 3 runs
    panel.get_by_role("button", name="Attempt 1", exact=True).click()
    expect(shown).to_contain_text("Attempt 1 of 3", timeout=WAIT)
    expect(panel.get_by_role("alert")).to_contain_text("attempt 1 failed", timeout=WAIT)
    expect(panel.get_by_role("heading", name="Logs of attempt 1")).to_be_visible(timeout=WAIT)
    expect(panel.get_by_role("log")).to_contain_text("attempt 1: fetched 20 rows", timeout=WAIT)
    expect(panel.get_by_role("log")).not_to_contain_text("attempt 2", timeout=WAIT)
    wait_status(api, job_id, "completed", timeout=60)
    expect(step_button(page, 2, "Fetch")).to_have_attribute(
        "data-status", "completed", timeout=WAIT
    )
    page.wait_for_timeout(2_500)  # a few live refreshes
    expect(shown).to_contain_text("Attempt 1 of 3", timeout=WAIT)
    expect(shown).not_to_contain_text("Attempt 3", timeout=WAIT)
    expect(panel.get_by_role("alert")).to_contain_text("attempt 1 failed", timeout=WAIT)
    expect(panel.get_by_role("log")).not_to_contain_text("attempt 3", timeout=WAIT)
    expect(panel).to_contain_text("Attempt 1 returned no output (failed).", timeout=WAIT)
    snap(page, artifacts_dir, "step-panel-picked-attempt")

    # back to the current attempt: attempt 3, its output, no error
    panel.get_by_role("button", name="Follow current attempt").click()
    expect(shown).to_contain_text("Attempt 3 of 3", timeout=WAIT)
    expect(panel.get_by_role("alert")).to_have_count(0, timeout=WAIT)
    expect(panel.get_by_role("log")).to_contain_text("attempt 3: fetched 20 rows", timeout=WAIT)

    # what the step was given: its params and the upstream outputs
    panel.get_by_text("Input", exact=True).click()
    given = panel.locator("details", has_text="Input").locator("pre").first
    expect(given).to_contain_text('"upstream"', timeout=WAIT)
    expect(given).to_contain_text('"prepare"', timeout=WAIT)
    expect(given).to_contain_text('"fail_times": 2', timeout=WAIT)


def test_logs_filter_by_level_and_search(page: Page, api: httpx.Client) -> None:
    job_id = run(api, retrying_workflow(api, fail_times=1, backoff=0.2, seconds=0))
    wait_status(api, job_id, "completed", timeout=60)
    page.goto(f"/jobs/{job_id}")
    step_button(page, 2, "Fetch").click()
    panel = details(page)
    panel.get_by_role("button", name="Attempt 1", exact=True).click()
    log = panel.get_by_role("log")
    lines = log.locator(".jm-log-line")
    expect(lines).to_have_count(4)  # debug, info, warning, error

    level = panel.get_by_role("combobox", name="Log level")
    level.select_option("Warnings and errors")
    expect(lines).to_have_count(2, timeout=WAIT)
    expect(log).not_to_contain_text("fetched 20 rows", timeout=WAIT)
    level.select_option("Errors only")
    expect(lines).to_have_count(1, timeout=WAIT)
    expect(lines.first).to_have_attribute("data-level", "error", timeout=WAIT)

    level.select_option("All levels")
    panel.get_by_role("searchbox", name="Search logs").fill("SLOW")
    expect(lines).to_have_count(1, timeout=WAIT)
    expect(lines.first).to_contain_text("attempt 1: slow source", timeout=WAIT)
    panel.get_by_role("searchbox", name="Search logs").fill("no such words")
    expect(panel.get_by_text("No log lines match.")).to_be_visible(timeout=WAIT)
    panel.get_by_role("searchbox", name="Search logs").fill("")
    expect(lines).to_have_count(4, timeout=WAIT)


def test_logs_follow_and_pause(page: Page, api: httpx.Client, artifacts_dir: Path) -> None:
    name = workflow(
        api,
        [
            {
                "key": "talk",
                "name": "Talk",
                "action": "test.chatty",
                "params": {"every": 0.2, "seconds": 120},
            }
        ],
    )
    job_id = run(api, name)
    wait_step_status(api, job_id, "talk", "running")
    page.goto(f"/jobs/{job_id}")
    panel = details(page)
    log = panel.get_by_role("log")
    lines = log.locator(".jm-log-line")
    expect(lines.nth(3)).to_be_visible(timeout=20_000)
    # following: the newest line is in view of the box
    page.wait_for_timeout(2_500)
    newest = lines.last.bounding_box()
    frame = log.bounding_box()
    assert newest and frame and newest["y"] + newest["height"] <= frame["y"] + frame["height"] + 1

    panel.get_by_role("button", name="Pause").click()
    frozen = lines.count()
    page.wait_for_timeout(2_500)
    assert lines.count() == frozen, "lines arrived while paused"
    follow = panel.get_by_role("button", name=re.compile(r"^Follow \(\d+ new\)$"))
    expect(follow).to_be_visible(timeout=WAIT)
    snap(page, artifacts_dir, "step-panel-logs-paused")
    follow.click()
    expect(panel.get_by_role("button", name="Pause")).to_be_visible(timeout=WAIT)
    expect(lines.nth(frozen)).to_be_attached(timeout=10_000)  # the held lines show

    # a cancelled step says "cancelled" once (its status), not again as its error
    cancelled = api.post(f"/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    talk = step_button(page, 1, "Talk")
    expect(talk).to_have_attribute("data-status", "cancelled", timeout=15_000)
    item = page.locator(".jm-step-item", has=talk)
    expect(item.locator(".jm-step-error")).to_have_count(0, timeout=WAIT)
    expect(panel.get_by_role("alert")).to_have_count(0, timeout=WAIT)


def test_the_timeline_error_expands(page: Page, api: httpx.Client, artifacts_dir: Path) -> None:
    job_id = run(api, retrying_workflow(api, fail_times=9, backoff=0.2, seconds=0))
    wait_status(api, job_id, "failed", timeout=60)
    page.goto(f"/jobs/{job_id}")
    error = page.get_by_role("group", name="Steps").locator(".jm-step-error")
    expect(error).to_have_count(1, timeout=WAIT)
    clamped = error.bounding_box()
    assert clamped and clamped["height"] < 40  # two lines of 12 px text
    toggle = page.get_by_text("Show full error")
    toggle.click()
    expect(page.get_by_text("Show less")).to_be_visible(timeout=WAIT)
    expanded = error.bounding_box()
    assert expanded and expanded["height"] > clamped["height"] * 1.5
    # the job page's action buttons do not touch
    info = page.get_by_role("region", name="Job info")
    resume = info.get_by_role("button", name="Resume").bounding_box()
    rerun = info.get_by_role("button", name="Re-run").bounding_box()
    assert resume and rerun and rerun["x"] - (resume["x"] + resume["width"]) >= 6
    snap(page, artifacts_dir, "step-panel-timeline-error")


def test_the_seven_step_dag_fits_the_page(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    """data_pipeline's 7-step chain wraps into two bands: every step box lies inside the
    drawing's frame at 1440 and at 1024 px, so none is cut off on the right."""
    workflow_id = next(
        w["id"] for w in api.get("/workflows").json()["items"] if w["name"] == "data_pipeline"
    )
    page.goto(f"/workflows/{workflow_id}")
    steps = page.get_by_role("list", name="Workflow steps").get_by_role("listitem")
    expect(steps).to_have_count(7, timeout=20_000)
    frame = page.locator(".jm-dag-scroll")
    for width, height in ((1440, 900), (1024, 768)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(200)
        box = frame.bounding_box()
        for node in steps.all():
            assert within(node.bounding_box(), box), f"a step is cut off at {width} px"
        assert frame.evaluate("el => el.scrollWidth - el.clientWidth") <= 1
    snap(page, artifacts_dir, "workflow-dag-data-pipeline")
