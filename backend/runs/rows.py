"""The run audit record as the runs queries return it (frozen rows)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run (a job) with the audit fields of seed 004's record."""

    id: uuid.UUID
    workflow_id: uuid.UUID
    workflow_name: str
    execution_number: int
    mode: str
    item_id: str | None
    requested_by: str | None
    status: str
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None
    steps_completed: int
    steps_failed: int
    step_count: int
    state_before: Any
    expected_work: Any
    state_after: Any
    delta: Any
    segments: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class RunFilter:
    workflow_id: uuid.UUID | None = None
    statuses: tuple[str, ...] = ()
    requested_by: str | None = None
    mode: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    execution_number: int | None = None
