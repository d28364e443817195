"""Response shapes of the workflows API (the telemetry contract's names where it has them). The request body of
`POST /workflows` is the definition itself (`backend.workflows.definition.WorkflowDefinition`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class WorkflowSummary(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    description: str
    project_id: str = Field(description="The project tag (`default` unless seeding was given one).")
    latest_version: int
    execution_count: int = Field(
        description="Executions stored now (pruned and deleted jobs not counted): the metrics'"
        " total_executions."
    )
    step_count: int
    job_counts: dict[str, int]
    created_at: datetime
    updated_at: datetime


class WorkflowList(BaseModel):
    items: list[WorkflowSummary]
    total: int
    skip: int
    limit: int


class VersionInfo(BaseModel):
    id: uuid.UUID
    version: int
    definition_hash: str
    created_at: datetime


class WorkflowDetail(WorkflowSummary):
    version: int = Field(description="The version whose definition is shown.")
    version_id: uuid.UUID
    definition: dict[str, Any]
    input_schema: dict[str, Any]
    concurrency: dict[str, Any]
    versions: list[VersionInfo]


class RegisteredWorkflow(WorkflowDetail):
    created: bool = Field(
        description="False when the same definition was already the latest version."
    )


SUCCESS_RATE = (
    "Percentage (0-100) of finished executions that completed: completed / (completed + failed"
    " + cancelled) x 100. An execution listed as `timeout` is a failed one; pending and running"
    " executions are not counted. 0 while none has finished."
)


class WorkflowMetricsSummary(BaseModel):
    """The telemetry WorkflowMetricsSummary plus percentiles, costs and the sample it used.

    Execution counts are exact over all time (maintained counters); duration and cost figures
    cover the newest `window` executions that finished (completed or failed)."""

    total_duration_seconds: float
    success_rate: float = Field(description=SUCCESS_RATE)
    total_executions: int = Field(description="Every execution stored, whatever its status.")
    finished_executions: int = Field(
        description="completed + failed + cancelled: the executions `success_rate` is over."
    )
    successful_executions: int
    failed_executions: int
    cancelled_executions: int
    active_executions: int
    average_duration_seconds: float
    min_duration_seconds: float | None
    max_duration_seconds: float | None
    p50_duration_seconds: float | None
    p95_duration_seconds: float | None
    total_cost_usd: float
    average_cost_usd: float
    window: int
    sampled_executions: int


class ExecutionStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"  # failed because a step timed out


class Execution(BaseModel):
    """The telemetry execution list item (a job of the workflow)."""

    id: uuid.UUID
    workflow_id: uuid.UUID
    execution_number: int
    status: ExecutionStatus
    started_at: datetime | None
    completed_at: datetime | None
    duration: float | None
    input_variables: dict[str, Any]
    results: dict[str, Any] | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime


class ExecutionList(BaseModel):
    items: list[Execution]
    total: int
    skip: int
    limit: int


class StepExecution(BaseModel):
    """The telemetry step execution: one step of the execution, with its full data."""

    id: uuid.UUID
    execution_id: uuid.UUID
    step_id: uuid.UUID = Field(description="The workflow step's id (as on the steps route).")
    step_key: str
    step_name: str
    step_index: int
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    duration: float | None
    retry_count: int = Field(description="Retries so far: attempts - 1.")
    attempt_number: int
    input_data: Any = Field(description="What the step was given: `params` and `upstream`.")
    output_data: Any
    error_message: str | None


class ExecutionDetail(Execution):
    """The telemetry execution details: the execution with its step executions."""

    step_executions: list[StepExecution]
