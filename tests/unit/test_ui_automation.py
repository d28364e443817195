"""The workflow page's Schedules and Budget tabs, from API answers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from apiclient import models as t
from jobmonitor.automation_view import budget_view, fire_time, schedule_view


def test_schedule_view_shows_local_and_utc_times() -> None:
    s = t.Schedule(
        id="s1",
        name="nightly",
        cron="0 3 * * *",
        timezone="Europe/Berlin",
        overlap="skip",
        catchup="none",
    )
    times = t.NextTimes(
        schedule_id="s1",
        timezone="Europe/Berlin",
        times=[datetime(2026, 12, 2, 2, 0, tzinfo=UTC), datetime(2026, 12, 3, 2, 0, tzinfo=UTC)],
    )
    view = schedule_view(s, times)
    assert view.when == "cron 0 3 * * * (Europe/Berlin)" and view.state == "active"
    assert view.next_times == [
        "Wed 2026-12-02 03:00:00 Europe/Berlin (02:00 UTC)",
        "Thu 2026-12-03 03:00:00 Europe/Berlin (02:00 UTC)",
    ]
    paused = schedule_view(
        t.Schedule(id="s2", name="often", interval_seconds=900, enabled=False), times
    )
    assert paused.when == "every 900 s" and paused.state == "paused"
    assert (
        fire_time(datetime(2026, 12, 2, 2, 0, tzinfo=UTC), "UTC") == "Wed 2026-12-02 02:00:00 UTC"
    )


def test_budget_view_states() -> None:
    resets = datetime(2026, 12, 2, tzinfo=UTC)

    def budget(spent: float, **extra: object) -> t.Budget:
        fields = {"id": "b", "period": "day", "limit_usd": 1.0, "warn_percent": 80, "block": True}
        return t.Budget(
            **{**fields, **extra, "spent_usd": spent, "percent": spent * 100, "resets_at": resets}
        )

    assert budget_view(budget(0.5), []).state == "ok"
    warn = budget_view(budget(0.85, workflow_name="costly"), [])
    assert warn.state == "warn" and warn.label == "workflow costly, per day, blocks new jobs"
    days = [
        t.DaySpend(day=date(2026, 11, 30), spent_usd=0.5),
        t.DaySpend(day=date(2026, 12, 1), spent_usd=2.0),
    ]
    over = budget_view(budget(1.2), days)
    assert over.state == "spent" and over.percent == 100 and "(120%)" in over.spent
    assert over.spent.endswith("resets 2026-12-02 00:00 UTC") and over.warn_at == 80
    assert [(d.height, d.over) for d in over.days] == [(25, False), (100, True)]
    assert over.limit_line == 50 and over.days[1].label == "2026-12-01: $2.00"
    monthly = budget_view(budget(0.5, period="month"), days)
    assert monthly.limit_line == -1 and not any(d.over for d in monthly.days)
