"""Plain formatting of durations, costs, ids, progress and JSON for the views."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

DASH = "—"


def duration_text(seconds: float | None) -> str:
    """Seed 003's duration: "2m 10s", "1h 5m", "42s"; sub-10 s keeps one decimal."""
    if seconds is None or seconds < 0:
        return DASH
    if seconds < 10:
        return f"{seconds:.1f}s"
    total = int(seconds)
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


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


def cost_text(amount: float | None) -> str:
    """ "$0.25", "$0.0031"; no cost recorded shows "$0"."""
    if not amount:
        return "$0"
    if amount >= 1:
        return f"${amount:,.2f}"
    return "$" + f"{amount:.4f}".rstrip("0").rstrip(".")


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
