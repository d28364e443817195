"""Data of the workflow page's duration chart (recharts): one point per recent job, oldest
first, its duration in seconds under its status group's key (the others None, so the
stacked bars colour each job by status and the tooltip names only its own)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apiclient import models as t

# status group -> (legend label, Radix colour)
SERIES: dict[str, tuple[str, str]] = {
    "completed": ("Completed", "green"),
    "failed": ("Failed", "red"),
    "cancelled": ("Cancelled", "orange"),
    "running": ("Running", "blue"),
    "other": ("Other", "gray"),
}
_GROUP = {"timeout": "failed", "timed_out": "failed", "pending": "other"}


def series_of(status: str) -> str:
    group = _GROUP.get(status, status)
    return group if group in SERIES else "other"


def duration_points(executions: list[t.Execution]) -> list[dict[str, Any]]:
    ordered = sorted(
        executions, key=lambda e: e.created_at or e.started_at or datetime.min.replace(tzinfo=UTC)
    )
    points = []
    for e in ordered:
        point: dict[str, Any] = dict.fromkeys(SERIES)
        point["run"] = f"#{e.execution_number}" if e.execution_number else e.id[:8]
        point[series_of(e.status)] = round(e.duration or 0.0, 2)
        points.append(point)
    return points
