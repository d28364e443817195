"""The job page's Event history and Gantt tabs (issue 15): a run's events in order with who
cancelled it, live, filtered by step; a retried step's attempts as separate segments with the
backoff between them and hover text; zoom to the running part."""

from __future__ import annotations

import itertools
import re
import uuid
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import snap, start_job, wait_status, wait_step_status


def _workflow(api: httpx.Client, prefix: str, steps: list[dict]) -> str:  # type: ignore[type-arg]
    name = f"{prefix}_{uuid.uuid4().hex[:6]}"
    response = api.post("/workflows", json={"name": name, "steps": steps})
    assert response.status_code in (200, 201), response.text
    return name


def _events(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("list", name="Events").locator("li")


def test_event_history_tells_the_run_live_with_who_cancelled_and_filters_by_step(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    name = _workflow(
        api,
        "e2e_history",
        [
            {"key": "warmup", "name": "Warm up", "action": "test.sleep", "params": {"seconds": 8}},
            {
                "key": "long",
                "name": "Long wait",
                "action": "test.sleep",
                "params": {"seconds": 120},
                "depends_on": ["warmup"],
            },
        ],
    )
    job = start_job(api, name)
    page.goto(f"/jobs/{job['id']}")
    page.get_by_role("tab", name="Event history").click()
    expect(page).to_have_url(re.compile(r"\?tab=events$"))
    history = page.get_by_role("region", name="Event history")
    expect(history.get_by_text("Job created")).to_be_visible()
    # live: the second step starts while the tab is open
    long_started = _events(page).filter(has_text="Attempt 1 started").filter(has_text="Long wait")
    expect(long_started).to_have_count(1, timeout=20_000)
    types = _events(page).evaluate_all("els => els.map(e => e.dataset.type)")
    assert types[0] == "workflow_created", types
    first_done = types.index("step_completed")
    assert types.index("step_started") < first_done < types.index("step_started", first_done)
    expect(_events(page).first).to_contain_text("by token:e2e")

    # the Gantt zooms to the running part, the long step, while the 8 s warm-up before it is
    # still more than a quarter of the run (later the whole run is mostly the running part)
    page.get_by_role("tab", name="Gantt").click()
    gantt = page.get_by_role("region", name="Gantt")
    expect(
        gantt.get_by_role("group", name="Lane 2 Long wait").locator("[data-kind=attempt]")
    ).to_have_count(1)
    gantt.get_by_role("button", name="Zoom to running part").click()
    expect(gantt.get_by_role("button", name="Show whole run")).to_be_visible()
    axis = gantt.get_by_label("Time axis")
    expect(axis.locator("span, p").first).not_to_have_text("0s")
    expect(gantt.get_by_role("button", name="Show whole run")).to_have_attribute(
        "aria-pressed", "true"
    )
    snap(page, artifacts_dir, "job-gantt-zoomed")

    page.get_by_role("tab", name="Event history").click()
    assert api.post(f"/jobs/{job['id']}/cancel").status_code == 200
    cancelled = _events(page).filter(has_text="Job cancelled")
    expect(cancelled).to_have_count(1, timeout=10_000)
    expect(cancelled).to_contain_text("by token:e2e")
    expect(_events(page).filter(has_text="Step cancelled")).to_have_count(1, timeout=10_000)
    snap(page, artifacts_dir, "job-event-history")

    every = api.get(f"/jobs/{job['id']}/events").json()["items"]
    expect(_events(page)).to_have_count(len(every))
    history.get_by_role("combobox", name="Filter events by step").click()
    page.get_by_role("option", name="2. Long wait").click()
    long_events = [e for e in every if e["step_key"] == "long"]
    expect(_events(page)).to_have_count(len(long_events))
    keys = _events(page).evaluate_all("els => els.map(e => e.dataset.stepKey)")
    assert set(keys) == {"long"}
    expect(page).to_have_url(re.compile(r"\?tab=events$"))
    snap(page, artifacts_dir, "job-event-history-filtered")


def test_gantt_shows_each_attempt_with_its_backoff_and_hover_text(
    page: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    name = _workflow(
        api,
        "e2e_gantt",
        [
            {"key": "prep", "name": "Prepare", "action": "test.noop"},
            {
                "key": "flaky",
                "name": "Flaky call",
                "action": "test.slow_flaky",
                "params": {"seconds": 0.8, "fail_times": 2},
                "retry": {"max_attempts": 3, "backoff_seconds": 1.5, "factor": 1},
                "depends_on": ["prep"],
            },
        ],
    )
    job = start_job(api, name)
    wait_step_status(api, job["id"], "flaky", "running", "retrying", timeout=20)
    page.goto(f"/jobs/{job['id']}?tab=gantt")
    gantt = page.get_by_role("region", name="Gantt")
    lane = gantt.get_by_role("group", name="Lane 2 Flaky call")
    attempts = lane.locator("[data-kind=attempt]")
    expect(attempts).to_have_count(3, timeout=30_000)  # live: the later attempts appear
    wait_status(api, job["id"], "completed")
    expect(attempts.nth(2)).to_have_attribute("data-status", "completed", timeout=10_000)
    expect(attempts.nth(0)).to_have_attribute("data-status", "failed")
    expect(lane.locator("[data-kind=backoff]")).to_have_count(2)
    boxes = [attempts.nth(i).bounding_box() for i in range(3)]
    for before, after in itertools.pairwise(boxes):
        assert before and after
        gap = after["x"] - (before["x"] + before["width"])
        assert gap > 20, boxes  # the 1.5 s backoff shows as a gap, not touching segments

    attempts.nth(0).hover()
    tip = page.get_by_role("tooltip")
    expect(tip).to_contain_text("Attempt 1: failed")
    expect(tip).to_contain_text("worker ")
    expect(tip).to_contain_text("planned failure 1/2")
    expect(tip).to_contain_text(re.compile(r"started \d\d:\d\d:\d\d\.\d UTC"))
    page.mouse.move(0, 0)
    expect(page.get_by_role("tooltip")).to_have_count(0)
    lane.locator("[data-kind=backoff]").first.hover()
    expect(page.get_by_role("tooltip")).to_contain_text("Backoff 1.")
    attempts.nth(0).hover()
    snap(page, artifacts_dir, "job-gantt-attempts")
    expect(gantt.get_by_role("button", name="Zoom to running part")).to_have_count(0)
