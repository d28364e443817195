"""Request and response shapes of the jobs API. Field names follow the job matrix's
(`MatrixJob`, `MatrixJobStep`, `JobListResponse`, `JobStepsResponse`), the status and results
contract's and the telemetry timeline's (`WorkflowExecutionTimeline`); requests refuse
unknown fields."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from backend.jobs.states import JobStatus

IDEMPOTENCY_KEY = Field(
    default=None,
    min_length=1,
    max_length=255,
    pattern=r"^[\x21-\x7e]+$",
    description="Replays with the same key and payload answer 200 with the same job; another payload 409.",
)


INPUT_DATA = (
    "What the step was given: `params` and `upstream` (each direct dependency's output by key;"
    " an output over 64 KiB is a reference to that step's `output_data` instead). Null until it"
    " first ran."
)
SUMMARY = (
    'Small data whole (at most 1,000 bytes of JSON; a non-object as {"value": ...}); larger'
    " data as {truncated, size_bytes, key_count and the first keys, or length, and the first"
    " items shortened}. {} for a step that ran without this data; null for one that never ran."
    " The full data is on the execution and steps routes."
)


METADATA_LIMIT = 16 * 1024  # bytes of compact JSON
METADATA = Field(
    default=None,
    description="Your own notes on the job (any JSON object up to 16 KB), stored and shown as is.",
)


def check_metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
        if size > METADATA_LIMIT:
            raise ValueError(f"metadata is {size} bytes of JSON; at most {METADATA_LIMIT}")
    return value


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
    mode: Literal["global_batch", "single_item"] = Field(
        default="global_batch",
        description="global_batch: everything pending (the concurrency policy applies); "
        "single_item: the one item `item_id` (steps read ctx.mode and ctx.item_id).",
    )
    item_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The item of a single_item run."
    )
    metadata: dict[str, Any] | None = METADATA

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_metadata(value)

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
    draft_state: str = Field(
        default="none",
        description="none, proposed, in_review, approved, rejected, applied (review gates).",
    )
    waiting_for: str | None = Field(
        default=None, description="manual or review while a step waits for a person."
    )

    @computed_field(description="The job matrix's name for workspace_id.")  # type: ignore[prop-decorator]
    @property
    def tenant_id(self) -> uuid.UUID:
        return self.workspace_id


class Job(JobListItem):
    """The job matrix's MatrixJob plus our fields."""

    input_payload: dict[str, Any]
    output_payload: dict[str, Any] | None
    state_before: Any = Field(
        description="Run audit: snapshot before the run, when the workflow has one."
    )
    state_after: Any = Field(description="Run audit: snapshot after the run.")
    delta: Any = Field(description="Run audit: state_after minus state_before, key by key.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="The creator's notes.")

    @field_validator("metadata", mode="before")
    @classmethod
    def _no_metadata(cls, value: Any) -> Any:
        return {} if value is None else value


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
    waiting: int = Field(default=0, description="Jobs with a step waiting for a person.")


class Step(BaseModel):
    """The job matrix's MatrixJobStep plus our fields."""

    id: uuid.UUID
    job_id: uuid.UUID
    step_id: uuid.UUID = Field(
        description="The workflow step's id: the same for this key in every job of the workflow."
    )
    step_key: str = Field(description="The step's key in the workflow definition.")
    step_index: int = Field(description="Its place in execution order, from 1.")
    name: str
    action: str
    status: str
    params: dict[str, Any]
    depends_on: list[str]
    condition: str | None
    input_data: Any = Field(description=INPUT_DATA)
    output_data: Any
    error_message: str | None
    error_type: str | None
    attempt_number: int = Field(description="Its latest attempt (1 for the first; 0: none yet).")
    retry_count: int = Field(description="Retries so far: attempt_number - 1.")
    max_attempts: int
    progress: float
    cost_usd: float
    next_attempt_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None
    run: str = Field(
        default="auto", description="auto, manual (executed by a person) or review (a gate)."
    )
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

    step_id: uuid.UUID = Field(description="The workflow step's id (as on the steps route).")
    step_key: str
    step_name: str
    step_order: int
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None
    retry_count: int = Field(description="Retries so far: attempts - 1.")
    error_message: str | None
    input_summary: dict[str, Any] | None = Field(description=SUMMARY)
    output_summary: dict[str, Any] | None = Field(description=SUMMARY)


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
    draft_state: str = "none"
    waiting_for: str | None = None


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
