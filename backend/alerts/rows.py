"""The rows and vocabulary of alerts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    JOB_FAILED = "job_failed"
    JOB_RECOVERED = "job_recovered"  # completed after the workflow's previous job failed
    STEP_RETRIED = "step_retried"  # params.retries: a step failed more than this many times
    RUN_LONGER_THAN = "run_longer_than"  # params.seconds
    RUN_LONGER_THAN_P95 = "run_longer_than_p95"  # params.factor (x p95), params.min_samples
    STUCK = "stuck"  # params.seconds: a running job with no event for this long
    BUDGET_THRESHOLD = "budget_threshold"  # a budget's warn threshold or limit crossed
    FAILURE_GROUP_OPENED = "failure_group_opened"  # a failure group created, or reopened


@dataclass(frozen=True, slots=True)
class RuleRow:
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    kind: str
    params: dict[str, Any]
    workflow_ids: list[Any]
    channel_ids: list[Any]
    quiet_seconds: float
    enabled: bool
    last_sent_at: datetime | None
    suppressed: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Match:
    """A job a scanning rule matches."""

    job_id: uuid.UUID
    workflow_id: uuid.UUID
    workflow_name: str
    seconds: float  # running for, or silent for
    p95: float | None = None


@dataclass(frozen=True, slots=True)
class OpenedGroup:
    """A failure group a job's failure opened: created it, or reopened it after a resolve."""

    fingerprint: str
    workflow_name: str
    step_key: str
    error_type: str | None
    message: str
    count: int
    reopened: bool
    opening: datetime  # the group's first failure, or its resolve: one opening, one subject
