"""When a schedule is due: cron expressions (croniter, evaluated in the schedule's time zone, so
"0 9 * * *" stays 09:00 across daylight-saving changes) or a fixed interval counted from the
schedule's anchor. Pure functions over aware datetimes; results are in UTC."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Timing:
    cron: str | None
    interval_seconds: float | None
    timezone: str
    anchor_at: datetime


def cron_problem(expression: str) -> str | None:
    """Why a cron expression is refused, or None. Five fields, a sixth for seconds, or the
    @hourly/@daily/... names."""
    if not croniter.is_valid(expression):
        return "not a valid cron expression (5 fields, or 6 with seconds last, or @hourly...)"
    return None


def timezone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "unknown time zone (an IANA name such as UTC or Europe/Berlin)"
    return None


def next_after(timing: Timing, after: datetime) -> datetime:
    """The first due time strictly after `after`."""
    if timing.cron is not None:
        local = after.astimezone(ZoneInfo(timing.timezone))
        return _utc(croniter(timing.cron, local).get_next(datetime))
    step = _interval(timing)
    elapsed = (after - timing.anchor_at).total_seconds()
    n = max(0, math.floor(elapsed / step.total_seconds()) + 1)
    return timing.anchor_at + n * step


def upcoming(timing: Timing, after: datetime, count: int) -> list[datetime]:
    times: list[datetime] = []
    at = after
    for _ in range(count):
        at = next_after(timing, at)
        times.append(at)
    return times


def missed(
    timing: Timing, since: datetime, now: datetime, limit: int
) -> tuple[list[datetime], int]:
    """The newest `limit` due times in [since, now], oldest first, and how many older ones
    in that span were left out (counted up to 1,000)."""
    newest: list[datetime] = []
    dropped = 0
    at = now + TICK
    while len(newest) < limit + 1_000:
        at = _previous(timing, at)
        if at < since:
            break
        if len(newest) < limit:
            newest.append(at)
        else:
            dropped += 1
    return list(reversed(newest)), dropped


def jitter(seconds: float) -> timedelta:
    """A random delay in [0, seconds): spreads the starts of many schedules due at once."""
    return timedelta(seconds=random.uniform(0, seconds)) if seconds > 0 else timedelta(0)


def _previous(timing: Timing, before: datetime) -> datetime:
    """The last due time strictly before `before` (the anchor at the earliest)."""
    if timing.cron is not None:
        local = before.astimezone(ZoneInfo(timing.timezone))
        return _utc(croniter(timing.cron, local).get_prev(datetime))
    step = _interval(timing)
    elapsed = (before - timing.anchor_at).total_seconds()
    n = math.ceil(elapsed / step.total_seconds()) - 1
    return timing.anchor_at + n * step


def _interval(timing: Timing) -> timedelta:
    assert timing.interval_seconds is not None
    return timedelta(seconds=timing.interval_seconds)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
