"""The workflow page's Automation section: the Schedules tab lists each schedule with its next
5 fire times in its time zone; the Budget tab shows spend against each budget as a bar."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, expect


def test_schedules_and_budget_tabs(page: Page, api: httpx.Client, artifacts_dir: Path) -> None:
    schedule = api.post(
        "/schedules",
        json={
            "workflow": "basic_sequence",
            "name": "e2e-nightly",
            "cron": "0 3 * * *",
            "timezone": "Europe/Berlin",
            "enabled": False,  # shown, never fired while the suite runs
        },
    )
    assert schedule.status_code == 201, schedule.text
    budget = api.post(
        "/budgets", json={"workflow": "basic_sequence", "period": "month", "limit_usd": 50}
    )
    assert budget.status_code == 201, budget.text
    first = datetime.fromisoformat(
        api.get(f"/schedules/{schedule.json()['id']}/next").json()["times"][0]
    )
    try:
        page.goto("/workflows/basic_sequence")
        section = page.get_by_role("region", name="Automation")
        expect(section.get_by_role("tab", name="Schedules")).to_be_visible()
        card = section.get_by_role("group", name="Schedule e2e-nightly")
        times = card.get_by_role("list", name="Next fire times of e2e-nightly").get_by_role(
            "listitem"
        )
        expect(times).to_have_count(5)
        local = first.astimezone(ZoneInfo("Europe/Berlin")).strftime(
            "%Y-%m-%d 03:00:00 Europe/Berlin"
        )
        expect(times.first).to_contain_text(local)
        expect(card).to_contain_text("paused")
        page.screenshot(path=str(artifacts_dir / "workflow-schedules.png"), full_page=True)
        section.get_by_role("tab", name="Budget").click()
        bar = section.get_by_role("progressbar", name="Spend of workflow basic_sequence, per month")
        expect(bar).to_be_visible()
        expect(section).to_contain_text("of $50.00")
        chart = section.get_by_role(
            "figure", name="Daily spend of workflow basic_sequence, per month"
        )
        expect(chart.get_by_role("img")).to_have_count(14)
        page.screenshot(path=str(artifacts_dir / "workflow-budget.png"), full_page=True)
    finally:
        api.delete(f"/schedules/{schedule.json()['id']}")
        api.delete(f"/budgets/{budget.json()['id']}")
