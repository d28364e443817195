"""Request and response shapes of the jobs API. Field names follow the job matrix's
(`MatrixJob`, `MatrixJobStep`, `JobListResponse`, `JobStepsResponse`), the status and results
contract's and the telemetry timeline's (`WorkflowExecutionTimeline`); requests refuse
unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.jobs.states import JobStatus

IDEMPOTENCY_KEY = Field(
    default=None,
    min_length=1,
    max_length=255,
    pattern=r"^[\x21-\x7e]+$",
    description="Replays with the same key and payload answer 200 with the same job; another payload 409.",
)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateJobRequest(Request):
    workflow_id: str | None = Field(
        default=None, min_length=1, max_length=100, description="Workflow id (or name)."
    )
    workflow: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Workflow name (as the status contract names it).",
    )
    input_payload: dict[str, Any] | None = Field(
        default=None, description="Validated against the input schema."
    )
    idempotency_key: str | None = IDEMPOTENCY_KEY
    force: bool = Field(
        default=False,
        description="Start even when the concurrency policy refuses, cancelling active jobs.",
    )

    @model_validator(mode="after")
    def _one_workflow(self) -> CreateJobRequest:
        if (self.workflow_id is None) == (self.workflow is None):
            raise ValueError("give exactly one of workflow_id or workflow (the workflow's name)")
        return self

    @property
    def workflow_ref(self) -> str:
        return str(self.workflow_id or self.workflow)


class BulkAction(StrEnum):
    CANCEL = "cancel"
    DELETE = "delete"


class BulkRequest(Request):
    action: BulkAction
    ids: list[uuid.UUID] = Field(min_length=1, max_length=500)


class ErrorInfo(BaseModel):
    code: str
    message: str


class BulkItemResult(BaseModel):
    id: uuid.UUID
    ok: bool
    status_before: str | None = None
    status_after: str | None = None
    error: ErrorInfo | None = None


class BulkResponse(BaseModel):
    action: BulkAction
    succeeded: int
    failed: int
    results: list[BulkItemResult]


class JobListItem(BaseModel):
    """A job without its payloads (list pages never carry them)."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    workflow_id: uuid.UUID
    workflow_name: str
    workflow_version: int
    execution_number: int
    status: JobStatus
    error_message: str | None
    progress: float
    current_step: str | None
    step_count: int
    steps_done: int
    total_cost: float
    rerun_of: uuid.UUID | None
    idempotency_key: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    duration_seconds: float | None


class Job(JobListItem):
    """The job matrix's MatrixJob (workspace_id in place of tenant_id) plus our fields."""

    input_payload: dict[str, Any]
    output_payload: dict[str, Any] | None
    state_before: Any = Field(
        description="Run audit: snapshot before the run, when the workflow has one."
    )
    state_after: Any = Field(description="Run audit: snapshot after the run.")
    delta: Any = Field(description="Run audit: state_after minus state_before, key by key.")


class JobList(BaseModel):
    items: list[JobListItem]
    total: int
    total_exact: bool = Field(
        description="False when `total` stopped counting at 10,000 (date filters, job id prefixes)."
    )
    skip: int
    limit: int
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page (keyset paging)."
    )


class JobCounts(BaseModel):
    total: int
    by_status: dict[str, int]


class Step(BaseModel):
    """The job matrix's MatrixJobStep (step_id is the step's key) plus our fields."""

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
    cost_usd: float
    next_attempt_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None
    reused_from_job_id: uuid.UUID | None = Field(
        default=None, description="A from-step re-run reused this step's output from that job."
    )
    reused_from_step_id: uuid.UUID | None = None


class JobSteps(BaseModel):
    job_id: uuid.UUID
    steps: list[Step]


class Cost(BaseModel):
    kind: str
    provider: str | None
    model: str | None
    tokens_in: int
    tokens_out: int
    amount_usd: float
    created_at: datetime


class Metric(BaseModel):
    name: str
    value: float
    unit: str | None
    created_at: datetime


class Attempt(BaseModel):
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
    cost_usd: float
    costs: list[Cost]
    metrics: list[Metric]


class StepAttempts(BaseModel):
    job_id: uuid.UUID
    step_id: str
    step_name: str
    status: str
    attempts: list[Attempt]


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class LogLine(BaseModel):
    id: int
    step_id: str
    attempt_id: uuid.UUID
    attempt_number: int | None
    level: str
    message: str
    created_at: datetime


class JobLogs(BaseModel):
    job_id: uuid.UUID
    items: list[LogLine]
    next_cursor: str | None = Field(description="Pass as `cursor` to read the lines after these.")
    has_more: bool = Field(description="More lines are stored after these (read again at once).")


class TimelineEntry(BaseModel):
    """The telemetry timeline's WorkflowStepTimelineEntry."""

    step_id: str
    step_name: str
    step_order: int
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None
    retry_count: int
    error_message: str | None
    input_summary: dict[str, Any] | None
    output_summary: dict[str, Any] | None


class Timeline(BaseModel):
    """The telemetry timeline's WorkflowExecutionTimeline (execution_id is the job id)."""

    execution_id: uuid.UUID
    workflow_id: uuid.UUID
    workflow_name: str
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    total_duration_seconds: float | None
    step_count: int
    completed_step_count: int
    failed_step_count: int
    skipped_step_count: int
    step_timeline: list[TimelineEntry]
    error_message: str | None


class StepperItem(BaseModel):
    step: str
    name: str
    status: str
    progress: float


class JobStatusDetail(BaseModel):
    job_id: uuid.UUID
    status: JobStatus
    current_step: str | None
    progress: float
    stepper: list[StepperItem]


class JobStatusResponse(BaseModel):
    """The status contract's shape (`success`, `job`)."""

    success: Literal[True] = True
    job: JobStatusDetail


class JobResults(BaseModel):
    """The status contract's results: one step's output items, paginated."""

    success: Literal[True] = True
    job_id: uuid.UUID
    step: str
    items: list[Any]
    total: int
    limit: int
    offset: int


class RerunRequest(Request):
    """Optional body of `POST /jobs/{id}/rerun` (no body: same input and version)."""

    from_step: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Run this step and everything downstream; reuse the other steps' outputs.",
    )
    input_patch: dict[str, Any] | None = Field(
        default=None,
        description="Merged into the original input (RFC 7386: null removes a key), then "
        "validated against the input schema.",
    )
    latest_version: bool = Field(
        default=False, description="Run the workflow's latest version (not with from_step)."
    )


class StepRerunRequest(Request):
    """Optional body of `POST /jobs/{id}/steps/{step}/rerun`."""

    input_patch: dict[str, Any] | None = None


class DiffEntry(BaseModel):
    path: str = Field(description="JSON path, e.g. `$.options.mode`.")
    change: Literal["added", "removed", "changed"]
    a: Any = Field(description="Value in A (large values: {truncated, preview, chars}).")
    b: Any


class CompareJob(BaseModel):
    id: uuid.UUID
    workflow_name: str | None
    workflow_version: int | None
    status: str
    created_at: datetime
    duration_seconds: float | None
    total_cost: float
    error_message: str | None


class CompareStepSide(BaseModel):
    status: str
    attempts: int
    duration_seconds: float | None
    cost_usd: float
    error_type: str | None
    error_message: str | None
    reused_from_job_id: uuid.UUID | None


class MetricDelta(BaseModel):
    name: str
    unit: str | None
    a: float | None
    b: float | None
    delta: float | None


class CompareStep(BaseModel):
    step_key: str
    name: str
    presence: Literal["both", "only_a", "only_b"]
    a: CompareStepSide | None
    b: CompareStepSide | None
    duration_delta: float | None = Field(description="B minus A, seconds.")
    cost_delta: float | None = Field(description="B minus A, USD.")
    metrics: list[MetricDelta]
    output_equal: bool | None
    output_diff: list[DiffEntry]
    output_diff_truncated: bool
    same: bool = Field(description="Same status and output.")


class Comparison(BaseModel):
    a: CompareJob
    b: CompareJob
    same_version: bool
    input_diff: list[DiffEntry]
    input_diff_truncated: bool
    output_diff: list[DiffEntry]
    output_diff_truncated: bool
    steps: list[CompareStep]
    first_divergence: str | None = Field(description="Key of the first step that differs.")
    summary: str
