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
class DayBar:
    height: int = 0  # percent of the chart
    label: str = ""
    over: bool = False  # above a day budget's limit


@dataclass
class BudgetView:
    id: str = ""
    label: str = ""
    spent: str = ""
    percent: int = 0  # of the limit, capped at 100 for the bar
    warn_at: int = 0
    state: str = ""  # ok, warn, spent
    days: list[DayBar] = field(default_factory=list)
    limit_line: int = -1  # height of a day budget's limit in the chart; -1: none


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


def budget_view(b: t.Budget, days: list[t.DaySpend]) -> BudgetView:
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
        days=_bars(b, days),
        limit_line=_limit_line(b, days),
    )


def _top(b: t.Budget, days: list[t.DaySpend]) -> float:
    """The chart's full height: the largest day, or a day budget's limit."""
    return max([_daily_limit(b), *(d.spent_usd for d in days)]) or 1.0


def _daily_limit(b: t.Budget) -> float:
    return b.limit_usd if b.period == "day" else 0.0


def _bars(b: t.Budget, days: list[t.DaySpend]) -> list[DayBar]:
    top, limit = _top(b, days), _daily_limit(b)
    return [
        DayBar(
            height=round(d.spent_usd / top * 100),
            label=f"{d.day.isoformat()}: {cost_text(d.spent_usd)}",
            over=bool(limit) and d.spent_usd >= limit,
        )
        for d in days
    ]


def _limit_line(b: t.Budget, days: list[t.DaySpend]) -> int:
    """Where a day budget's limit crosses the chart; -1 for a month budget."""
    limit = _daily_limit(b)
    return round(limit / _top(b, days) * 100) if limit else -1
