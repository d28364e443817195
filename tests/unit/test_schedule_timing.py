"""Due times of cron and interval schedules (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.schedules.timing import (
    Timing,
    cron_problem,
    jitter,
    missed,
    next_after,
    timezone_problem,
    upcoming,
)

ANCHOR = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


def test_cron_keeps_local_time_across_dst() -> None:
    nine = Timing("0 9 * * *", None, "Europe/Berlin", ANCHOR)
    times = upcoming(nine, ANCHOR - timedelta(days=1), 3)  # 28, 29, 30 March
    assert all(t.tzinfo == UTC for t in times)
    assert [t.hour for t in times] == [8, 7, 7]  # UTC+1, then UTC+2
    assert {t.astimezone(ZoneInfo("Europe/Berlin")).hour for t in times} == {9}
    # 02:30 does not exist on 29 March in Berlin: that day fires once, at 03:00
    night = Timing("30 2 * * *", None, "Europe/Berlin", ANCHOR)
    local = [t.astimezone(ZoneInfo("Europe/Berlin")) for t in upcoming(night, ANCHOR, 3)]
    assert [(t.day, t.hour, t.minute) for t in local] == [(29, 3, 0), (30, 2, 30), (31, 2, 30)]


def test_interval_counts_from_the_anchor() -> None:
    every = Timing(None, 90, "UTC", ANCHOR)
    assert next_after(every, ANCHOR) == ANCHOR + timedelta(seconds=90)
    assert next_after(every, ANCHOR + timedelta(seconds=100)) == ANCHOR + timedelta(seconds=180)
    assert next_after(every, ANCHOR + timedelta(seconds=180)) == ANCHOR + timedelta(seconds=270)


def test_missed_keeps_the_newest_and_counts_the_rest() -> None:
    hourly = Timing("0 * * * *", None, "UTC", ANCHOR)
    since = ANCHOR + timedelta(hours=1)
    now = ANCHOR + timedelta(hours=5, minutes=30)
    times, dropped = missed(hourly, since, now, 2)
    assert times == [ANCHOR + timedelta(hours=4), ANCHOR + timedelta(hours=5)] and dropped == 3
    exact, none_dropped = missed(hourly, since, ANCHOR + timedelta(hours=1), 5)
    assert exact == [since] and none_dropped == 0
    every = Timing(None, 3600, "UTC", ANCHOR)
    assert missed(every, since, now, 10) == ([ANCHOR + timedelta(hours=h) for h in range(1, 6)], 0)


def test_problems_and_jitter() -> None:
    assert cron_problem("*/5 * * * *") is None and cron_problem("@daily") is None
    assert cron_problem("60 * * * *") and cron_problem("* * *")
    assert timezone_problem("Europe/Berlin") is None and timezone_problem("Nowhere/City")
    assert jitter(0) == timedelta(0)
    assert all(timedelta(0) <= jitter(5) < timedelta(seconds=5) for _ in range(100))
