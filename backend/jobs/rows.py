"""The rows the jobs domain's queries return: frozen, typed, built straight from the cursor
(`psycopg.rows.class_row`). The API validates its response models from their attributes.

Timestamps are the database's; `duration_seconds` of an unfinished job or step counts up to
the statement's `now()`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class JobRow:
    """A job with its workflow's name and version. The payload fields are None when the
    lookup was asked not to read them (list pages, existence checks), and so are the
    workflow's name and version (the engine's per-step read)."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    workflow_id: uuid.UUID
    workflow_version_id: uuid.UUID
    execution_number: int
    status: str
    error_message: str | None
    progress: float
    current_step: str | None
    step_count: int
    steps_done: int
    total_cost: Decimal
    rerun_of: uuid.UUID | None
    idempotency_key: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    duration_seconds: float | None
    workflow_name: str | None = None
    workflow_version: int | None = None
    input_payload: dict[str, Any] | None = None
    output_payload: dict[str, Any] | None = None
    state_before: Any = None
    state_after: Any = None
    delta: Any = None


@dataclass(frozen=True, slots=True)
class KeyedJob:
    """The job an idempotency key made, and the hash of the payload it was made with."""

    id: uuid.UUID
    payload_hash: str


@dataclass(frozen=True, slots=True)
class StepRow:
    """A step as the API shows it (`step_id` is its key; `attempt_number` its latest try)."""

    id: uuid.UUID
    job_id: uuid.UUID
    step_id: str
    step_key: str
    step_index: int
    name: str
    action: str
    status: str
    params: dict[str, Any]
    depends_on: list[str]
    condition: str | None
    input_data: Any
    output_data: Any
    error_message: str | None
    error_type: str | None
    attempt_number: int
    max_attempts: int
    progress: float
    cost_usd: Decimal
    next_attempt_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None


@dataclass(frozen=True, slots=True)
class ResumableStep:
    """A failed, timed out or cancelled step, with what resuming it needs."""

    id: uuid.UUID
    name: str
    retry: dict[str, Any]
    attempt_count: int


@dataclass(frozen=True, slots=True)
class ReadyStep:
    """A pending step whose dependencies are done (the scheduler queues, skips or fails it)."""

    id: uuid.UUID
    step_key: str
    name: str
    condition: str | None
    timeout_seconds: float | None
    attempt_count: int
    upstream_skipped: bool


@dataclass(frozen=True, slots=True)
class StepToRetry:
    """A step whose attempt failed: what deciding and queueing its next attempt needs."""

    id: uuid.UUID
    step_key: str
    name: str
    timeout_seconds: float | None
    attempt_count: int
    retry: dict[str, Any]
    max_attempts: int


@dataclass(frozen=True, slots=True)
class ExpiredAttempt:
    """A running attempt whose lease expired (its worker died or hung), for the reaper."""

    id: uuid.UUID
    job_id: uuid.UUID
    step_id: uuid.UUID
    workspace_id: uuid.UUID
    step_key: str
    step_name: str
    attempt_number: int
    lease_token: uuid.UUID
    worker_name: str | None
    pid: int | None
    silent_seconds: float


@dataclass(frozen=True, slots=True)
class QueuedAttempt:
    """A queued attempt (whose queue message the reaper checks)."""

    id: uuid.UUID
    step_id: uuid.UUID
    job_id: uuid.UUID
    timeout_seconds: float | None


@dataclass(frozen=True, slots=True)
class DueRetry:
    """A step waiting for its next attempt, whose backoff has elapsed."""

    id: uuid.UUID
    job_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class StepRef:
    """A step found by its key."""

    id: uuid.UUID
    step_key: str
    name: str
    status: str


@dataclass(frozen=True, slots=True)
class StepProgress:
    step_key: str
    name: str
    status: str
    progress: float


@dataclass(frozen=True, slots=True)
class StepOutput:
    step_key: str
    output_data: Any


@dataclass(frozen=True, slots=True)
class CostRow:
    attempt_id: uuid.UUID
    kind: str
    provider: str | None
    model: str | None
    tokens_in: int
    tokens_out: int
    amount_usd: Decimal
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MetricRow:
    attempt_id: uuid.UUID
    name: str
    value: float
    unit: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """One try of a step, with the costs and metrics it reported."""

    id: uuid.UUID
    attempt_number: int
    status: str
    worker_name: str | None
    pid: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    lease_expires_at: datetime | None
    duration_seconds: float | None
    error_type: str | None
    error_message: str | None
    traceback: str | None
    cost_usd: Decimal
    costs: tuple[CostRow, ...] = ()
    metrics: tuple[MetricRow, ...] = ()


@dataclass(frozen=True, slots=True)
class LogLineRow:
    id: int
    step_id: str  # the step's key
    attempt_id: uuid.UUID
    attempt_number: int | None
    level: str
    message: str
    created_at: datetime
