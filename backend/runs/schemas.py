"""Response shapes of the runs API: the run audit record (seed 004's), a page of run history,
and the pre-flight report of a workflow."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


class Check(BaseModel):
    """One check of `doctor` or of a workflow's pre-flight."""

    name: str
    verdict: Verdict
    detail: str = Field(description="What was found, and what to do when it is not ok.")
    data: dict[str, Any] = Field(
        default_factory=dict, description="The figures behind the verdict."
    )


class Run(BaseModel):
    """One run (a job) as the audit trail records it."""

    id: uuid.UUID
    workflow_id: uuid.UUID
    workflow_name: str
    execution_number: int
    mode: str = Field(description="global_batch or single_item")
    item_id: str | None
    requested_by: str | None = Field(description="The token that started the run.")
    status: str
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None
    steps_completed: int
    steps_failed: int
    step_count: int
    state_before: Any = Field(description="The snapshot at the run's first start.")
    expected_work: Any = Field(description="The pending-work estimate at the first start.")
    state_after: Any = Field(description="The snapshot when the run (last) ended.")
    delta: Any = Field(description="state_after minus state_before, key by key.")
    segments: list[dict[str, Any]] = Field(
        description="One per start (the first run, then each resume): started_at, ended_at, "
        "status, state_before, state_after, delta."
    )


class RunPage(BaseModel):
    items: list[Run]
    skip: int
    limit: int
    has_more: bool


class Preflight(BaseModel):
    workflow: str
    workflow_id: uuid.UUID
    version: int
    input: dict[str, Any] = Field(description="The input the estimate was made for (defaults).")
    verdict: Verdict
    ok: bool = Field(description="No check failed (warnings allowed).")
    checks: list[Check]


class RunReport(BaseModel):
    """What `jobmonitor report` renders: the run, its attempts per status and its errors."""

    run: Run
    attempts: dict[str, int] = Field(description="The run's attempts per status.")
    issues: list[dict[str, Any]] = Field(
        description="Each failed, timed-out or lost attempt: step, number, error type, message."
    )
