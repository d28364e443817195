"""Plain formatting of running durations, ids, progress, timestamps and JSON for the views
(durations and costs as both front ends write them are in `apiclient.format`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from apiclient.format import DASH, duration_text


def elapsed(
    start: datetime | None, end: datetime | None, now: datetime | None = None
) -> float | None:
    """Seconds from `start` to `end` (or to `now` while still running)."""
    if start is None:
        return None
    stop = end or now or datetime.now(UTC)
    return max((stop - start).total_seconds(), 0.0)


def job_duration(
    duration_seconds: float | None,
    start: datetime | None,
    end: datetime | None,
    now: datetime | None = None,
) -> str:
    if duration_seconds is not None:
        return duration_text(duration_seconds)
    return duration_text(elapsed(start, end, now))


def short_id(value: str) -> str:
    return value.replace("-", "")[:8]


def progress_text(status: str, steps_done: int, step_count: int) -> str:
    """ "Step 3/5" while running (the step being worked on), "5/5" when done, else a dash."""
    if step_count <= 0:
        return DASH
    if status == "running":
        return f"Step {min(steps_done + 1, step_count)}/{step_count}"
    if status == "pending":
        return DASH
    return f"{steps_done}/{step_count}"


def iso(value: datetime | None) -> str:
    """An ISO-8601 UTC timestamp for the browser to format ("" when unknown)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def pretty_json(value: Any) -> str:
    """Indented JSON text (rendered as text in a code block, never as HTML)."""
    if value is None:
        return "null"
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}%"
