"""Rows of the failure inbox's queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class GroupRow:
    """A failure group with what operators decided about it. `status` is the effective one:
    a group resolved before its latest failure is open again (`reopened`)."""

    fingerprint: str
    workflow_id: uuid.UUID
    workflow_name: str
    step_key: str
    error_type: str | None
    message: str
    count: int
    first_seen: datetime
    last_seen: datetime
    trend: list[int]
    status: str
    reopened: bool
    assignee: str | None
    note: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class OccurrenceRow:
    """One failed run of a group."""

    job_id: uuid.UUID
    job_status: str
    failed_at: datetime | None
    error_message: str | None
    rerun_job_id: uuid.UUID | None  # the newest re-run of that job, if any
