"""The rows the schedules domain's queries return."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from backend.schedules.timing import Timing


class Overlap(StrEnum):
    """What a due time does while a job this schedule started is still active."""

    SKIP = "skip"  # start nothing
    QUEUE_ONE = "queue_one"  # start one job when the active one has ended
    CANCEL_RUNNING = "cancel_running"  # cancel the active job(s), then start
    ALLOW = "allow"  # start anyway


class Catchup(StrEnum):
    """Due times missed while no scheduler ran."""

    NONE = "none"  # none of them (a due time late by more than the grace is dropped)
    LAST = "last"  # the newest one
    ALL = "all"  # each, oldest first, at most catchup_max


class FireStatus(StrEnum):
    STARTED = "started"
    QUEUED = "queued"
    SKIPPED = "skipped"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    id: uuid.UUID
    workspace_id: uuid.UUID
    workflow_id: uuid.UUID
    workflow_name: str
    name: str
    cron: str | None
    interval_seconds: float | None
    timezone: str
    input_payload: dict[str, Any]
    enabled: bool
    overlap: str
    catchup: str
    catchup_max: int
    jitter_seconds: float
    anchor_at: datetime
    next_due_at: datetime
    next_fire_at: datetime
    last_fired_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def timing(self) -> Timing:
        return Timing(self.cron, self.interval_seconds, self.timezone, self.anchor_at)


@dataclass(frozen=True, slots=True)
class FireRow:
    id: uuid.UUID
    schedule_id: uuid.UUID
    due_at: datetime
    status: str
    job_id: uuid.UUID | None
    job_status: str | None
    reason: str | None
    created_at: datetime
