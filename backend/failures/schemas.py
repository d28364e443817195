"""Request and response shapes of the failure inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from backend.failures.service import GroupState
from backend.jobs.schemas import ErrorInfo


class FailureGroup(BaseModel):
    fingerprint: str
    workflow_id: uuid.UUID
    workflow_name: str
    step_key: str
    error_type: str | None
    message: str = Field(description="The error message, ids and numbers replaced.")
    count: int = Field(
        description="Failures recorded: one per failed run (a resumed run that fails again "
        "counts again)."
    )
    first_seen: datetime
    last_seen: datetime
    trend: list[int] = Field(description="Failures per day over the last 7 days, oldest first.")
    status: GroupState
    reopened: bool = Field(description="Resolved, then it happened again.")
    assignee: str | None
    note: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None


class FailureGroups(BaseModel):
    items: list[FailureGroup]
    open: int


class Occurrence(BaseModel):
    job_id: uuid.UUID
    job_status: str
    failed_at: datetime | None
    error_message: str | None
    rerun_job_id: uuid.UUID | None


class FailureGroupDetail(FailureGroup):
    occurrences: list[Occurrence]


class FailureCounts(BaseModel):
    open: int


class UpdateGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: GroupState | None = Field(
        default=None, description="acknowledged, resolved, or open (reopen)."
    )
    assignee: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="A person (token name); null unassigns.",
    )
    note: str | None = Field(default=None, max_length=4000, description="null clears it.")


class RerunGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latest_version: bool = Field(
        default=True, description="Run the workflow's latest version (the fix)."
    )


class RerunResult(BaseModel):
    job_id: uuid.UUID
    ok: bool
    new_job_id: uuid.UUID | None = None
    error: ErrorInfo | None = None


class RerunGroupResponse(BaseModel):
    succeeded: int
    failed: int
    results: list[RerunResult]
