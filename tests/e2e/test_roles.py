"""A viewer token sees no enabled control that changes anything: on the job list, the job page
(running and finished jobs), the workflow list and the workflow page, each is hidden or
disabled with a tooltip that says why."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import snap, start_job, wait_status, wait_step_status

MUTATING = re.compile(
    r"^(New job|Start a job|Cancel|Resume|Re-run|Re-run from here|Delete|Cancel selected|"
    r"Delete selected|Execute.*|Approve.*|Reject.*)$"
)
WHY = "Your token's role is viewer: this needs an operator or admin token."


@pytest.fixture(scope="module")
def viewer_token(api: httpx.Client) -> str:
    response = api.post(
        "/tokens", json={"name": f"viewer-{uuid.uuid4().hex[:6]}", "role": "viewer"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


@pytest.fixture
def viewer(browser: Any, web_app: str, viewer_token: str) -> Iterator[Page]:
    """A browser tab signed in with the viewer token."""
    context = browser.new_context(base_url=web_app, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"/signin?token={viewer_token}")
    page.wait_for_url("**/jobs")
    yield page
    context.close()


def no_enabled_mutation(page: Page) -> None:
    """Every mutating button on the page is disabled (there may be none)."""
    buttons = page.get_by_role("button", name=MUTATING)
    for i in range(buttons.count()):
        expect(buttons.nth(i)).to_be_disabled()


def tooltip_of(page: Page, name: str) -> None:
    page.locator("[data-denied]").filter(has=page.get_by_role("button", name=name)).first.hover()
    expect(page.get_by_role("tooltip")).to_contain_text(WHY)


def test_a_viewer_sees_no_mutating_controls(
    viewer: Page, api: httpx.Client, artifacts_dir: Path
) -> None:
    running = start_job(api, "basic_sequence", {"records": 5, "delay_seconds": 30})
    done = start_job(api, "basic_sequence", {"records": 1})
    wait_status(api, done["id"], "completed")
    wait_step_status(api, running["id"], "initialize", "running")
    page = viewer

    page.goto("/jobs")
    expect(page.locator(f'tr[data-job-id="{running["id"]}"]')).to_be_visible()
    expect(page.get_by_role("button", name="New job")).to_be_disabled()
    tooltip_of(page, "New job")
    no_enabled_mutation(page)
    page.get_by_role("button", name="Actions for job " + running["id"][:8]).click()
    expect(page.get_by_role("menuitem")).to_have_text(["View"])
    page.keyboard.press("Escape")
    page.locator(f'tr[data-job-id="{running["id"]}"]').get_by_role("checkbox").click()
    expect(page.get_by_role("button", name="Cancel selected")).to_be_disabled()
    expect(page.get_by_role("button", name="Delete selected")).to_be_disabled()
    no_enabled_mutation(page)
    snap(page, artifacts_dir, "viewer-job-list")

    page.goto(f"/jobs/{running['id']}")
    info = page.get_by_role("region", name="Job info")
    expect(info.get_by_role("button", name="Cancel")).to_be_disabled()
    tooltip_of(page, "Cancel")
    no_enabled_mutation(page)
    snap(page, artifacts_dir, "viewer-job-running")

    page.goto(f"/jobs/{done['id']}")
    expect(info.get_by_role("button", name="Re-run")).to_be_disabled()
    expect(page.get_by_role("button", name="Re-run from here")).to_be_disabled()
    no_enabled_mutation(page)

    page.goto("/workflows")
    expect(page.get_by_role("button", name="New job").first).to_be_disabled()
    no_enabled_mutation(page)

    page.goto(f"/workflows/{done['workflow_id']}")
    expect(page.get_by_role("button", name="New job")).to_be_disabled()
    no_enabled_mutation(page)
    snap(page, artifacts_dir, "viewer-workflow")

    api.post(f"/jobs/{running['id']}/cancel")


def test_an_operator_keeps_every_control(page: Page, api: httpx.Client) -> None:
    """The admin token of the other tests: the same buttons, enabled and without tooltip."""
    page.goto("/jobs")
    expect(page.get_by_role("button", name="New job")).to_be_enabled()
    expect(page.locator("[data-denied]")).to_have_count(0)
