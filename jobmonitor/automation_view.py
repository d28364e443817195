"""What the workflow page's Schedules and Budget tabs show, from the API's answers (plain
functions, tested without a browser)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from apiclient import models as t
from apiclient.format import cost_text


@dataclass
class ScheduleView:
    id: str = ""
    name: str = ""
    when: str = ""
    state: str = ""  # "active" or "paused"
    policy: str = ""
    next_times: list[str] = field(default_factory=list)


@dataclass
class BudgetView:
    id: str = ""
    label: str = ""
    spent: str = ""
    percent: int = 0  # of the limit, capped at 100 for the bar
    warn_at: int = 0
    state: str = ""  # ok, warn, spent


def schedule_view(s: t.Schedule, times: t.NextTimes) -> ScheduleView:
    when = f"cron {s.cron} ({s.timezone})" if s.cron else f"every {s.interval_seconds:g} s"
    return ScheduleView(
        id=s.id,
        name=s.name,
        when=when,
        state="active" if s.enabled else "paused",
        policy=f"overlap {s.overlap}, catch-up {s.catchup}",
        next_times=[fire_time(x, times.timezone) for x in times.times],
    )


def fire_time(moment: datetime, timezone: str) -> str:
    """A due time in the schedule's zone, with UTC when that differs."""
    local = moment.astimezone(ZoneInfo(timezone))
    text = local.strftime("%a %Y-%m-%d %H:%M:%S") + f" {timezone}"
    if timezone != "UTC":
        text += moment.astimezone(ZoneInfo("UTC")).strftime(" (%H:%M UTC)")
    return text


def budget_view(b: t.Budget) -> BudgetView:
    scope = f"workflow {b.workflow_name}" if b.workflow_name else "workspace"
    state = "spent" if b.percent >= 100 else "warn" if b.percent >= b.warn_percent else "ok"
    blocking = ", blocks new jobs" if b.block else ""
    return BudgetView(
        id=b.id,
        label=f"{scope}, per {b.period}{blocking}",
        spent=f"{cost_text(b.spent_usd)} of {cost_text(b.limit_usd)} ({b.percent:.0f}%), resets "
        + b.resets_at.strftime("%Y-%m-%d %H:%M UTC"),
        percent=min(100, round(b.percent)),
        warn_at=round(b.warn_percent),
        state=state,
    )
