"""The rows the workflows domain's queries return: frozen, typed, built from the cursor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class WorkflowRow:
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    description: str
    project_id: str
    latest_version: int
    execution_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One immutable version of a workflow's definition."""

    id: uuid.UUID
    workflow_id: uuid.UUID
    version: int
    definition: dict[str, Any]
    input_schema: dict[str, Any]
    concurrency: dict[str, Any]
    definition_hash: str
    created_at: datetime
    document: dict[str, Any] | None = None  # the definition in the author's key order


@dataclass(frozen=True, slots=True)
class VersionInfoRow:
    id: uuid.UUID
    version: int
    definition_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WorkflowSummaryRow:
    """A workflow with its latest version's step count and its jobs per status."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    description: str
    project_id: str
    latest_version: int
    execution_count: int
    created_at: datetime
    updated_at: datetime
    step_count: int
    job_counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class WorkflowDetailRow:
    """A workflow with one version's definition (and the list of its versions)."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    description: str
    project_id: str
    latest_version: int
    execution_count: int
    created_at: datetime
    updated_at: datetime
    step_count: int
    job_counts: dict[str, int]
    version: int
    version_id: uuid.UUID
    definition: dict[str, Any]
    input_schema: dict[str, Any]
    concurrency: dict[str, Any]
    versions: tuple[VersionInfoRow, ...]


@dataclass(frozen=True, slots=True)
class WorkflowMetricsRow:
    """Execution counts over all time; durations and costs over the newest `window` jobs."""

    total_duration_seconds: float
    success_rate: float
    total_executions: int
    finished_executions: int
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


@dataclass(frozen=True, slots=True)
class ExecutionRow:
    """A job of the workflow as an execution (`timeout`: failed on a step timeout)."""

    id: uuid.UUID
    workflow_id: uuid.UUID
    execution_number: int
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    duration: float | None
    input_variables: dict[str, Any]
    results: dict[str, Any] | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
