"""The REST API's resources as the web monitor reads them (pydantic models).

Fields the monitor does not use are ignored, and optional ones default, so the API can grow
without breaking the UI. Names follow the API's schemas (`backend/*/schemas.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class JobSummary(_Model):
    """A row of the job list (never carries payloads)."""

    id: str
    workflow_id: str
    workflow_name: str = ""
    status: str
    execution_number: int | None = None
    progress: float = 0.0
    current_step: str | None = None
    step_count: int = 0
    steps_done: int = 0
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_seconds: float | None = None
    total_cost: float = 0.0
    error_message: str | None = None
    rerun_of: str | None = None
    draft_state: str = "none"
    waiting_for: str | None = None  # manual | review while a step waits for a person


class Job(JobSummary):
    """One job with its payloads."""

    input_payload: dict[str, Any] = Field(default_factory=dict)
    output_payload: Any = None
    state_before: Any = None
    state_after: Any = None
    delta: Any = None
    idempotency_key: str | None = None
    workflow_version: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class Me(_Model):
    """The calling token (`GET /me`): what the monitor may offer it."""

    token_id: str
    token_name: str = ""
    role: str  # viewer | operator | admin
    instance_admin: bool = False


class JobPage(_Model):
    items: list[JobSummary]
    total: int
    skip: int = 0
    limit: int = 0
    next_cursor: str | None = None


class Step(_Model):
    id: str
    job_id: str
    step_id: str  # the workflow step's id (the same in every job of the workflow)
    step_key: str  # the step's key in the workflow definition
    step_index: int
    name: str
    action: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    status: str
    input_data: Any = None
    output_data: Any = None
    error_message: str | None = None
    error_type: str | None = None
    attempt_number: int = 0
    max_attempts: int | None = None
    next_attempt_at: datetime | None = None  # a retrying step's next try (database clock)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_seconds: float | None = None
    cost_usd: float = 0.0
    progress: float = 0.0
    run: str = "auto"  # auto | manual | review
    reused_from_job_id: str | None = None  # a from-step re-run reused this step's output


class JobSteps(_Model):
    job_id: str
    steps: list[Step]


class Attempt(_Model):
    id: str
    attempt_number: int
    status: str
    worker_name: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_seconds: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    cost_usd: float = 0.0
    costs: list[dict[str, Any]] = Field(default_factory=list)
    metrics: list[dict[str, Any]] = Field(default_factory=list)


class StepAttempts(_Model):
    step_id: str = ""
    step_name: str = ""
    status: str = ""
    attempts: list[Attempt]


class LogLine(_Model):
    id: int
    level: str = "info"
    message: str = ""
    created_at: datetime | None = None
    attempt_id: str | None = None
    attempt_number: int | None = None
    step_id: str | None = None  # the step's key


class LogPage(_Model):
    items: list[LogLine]
    next_cursor: str | None = None
    has_more: bool = False


class Workflow(_Model):
    id: str
    name: str
    description: str = ""
    latest_version: int = 1
    execution_count: int = 0
    step_count: int = 0
    job_counts: dict[str, int] = Field(default_factory=dict)
    created_at: datetime | None = None


class WorkflowDetail(Workflow):
    version: int | None = None
    definition: dict[str, Any] = Field(default_factory=dict)
    input_schema: dict[str, Any] = Field(default_factory=dict)


class WorkflowPage(_Model):
    items: list[Workflow]
    total: int = 0


class WorkflowMetrics(_Model):
    """The workflow metrics summary (`WorkflowMetricsSummary`), plus percentiles and cost."""

    total_duration_seconds: float = 0.0
    success_rate: float = 0.0
    total_executions: int = 0
    successful_executions: int = 0
    failed_executions: int = 0
    cancelled_executions: int = 0
    active_executions: int = 0
    average_duration_seconds: float = 0.0
    min_duration_seconds: float | None = None
    max_duration_seconds: float | None = None
    p50_duration_seconds: float | None = None
    p95_duration_seconds: float | None = None
    total_cost_usd: float = 0.0
    average_cost_usd: float = 0.0
    sampled_executions: int = 0


class Execution(_Model):
    id: str
    status: str
    execution_number: int | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration: float | None = None
    error_message: str | None = None
    created_at: datetime | None = None


class ExecutionPage(_Model):
    items: list[Execution]
    total: int = 0


class Run(_Model):
    """One run of the run history (`GET /runs`): a job with its audit record."""

    id: str
    workflow_name: str
    execution_number: int
    mode: str
    item_id: str | None = None
    requested_by: str | None = None
    status: str
    created_at: datetime
    duration_seconds: float | None = None
    steps_completed: int = 0
    step_count: int = 0
    state_before: Any = None
    expected_work: Any = None
    state_after: Any = None
    delta: Any = None


class RunPage(_Model):
    items: list[Run]
    has_more: bool = False


class BulkItem(_Model):
    id: str
    ok: bool
    status_before: str | None = None
    status_after: str | None = None
    error: dict[str, Any] | None = None  # {"code", "message"}

    @property
    def reason(self) -> str:
        return str((self.error or {}).get("message") or self.status_before or "refused")


class BulkResult(_Model):
    results: list[BulkItem]


class Event(_Model):
    """One row of `job_events` as the event stream sends it."""

    id: int
    job_id: str
    workflow_id: str | None = None
    type: str
    step_key: str | None = None
    attempt_id: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    data: dict[str, Any] | None = None
    created_at: datetime | None = None


class ReviewCounts(_Model):
    total: int = 0
    approved: int = 0
    rejected: int = 0
    undecided: int = 0


class ReviewItem(_Model):
    """An item under review: as patched (`item`) and as proposed (`original`)."""

    id: str
    position: int = 0
    item: dict[str, Any] = Field(default_factory=dict)
    original: dict[str, Any] = Field(default_factory=dict)
    decision: str | None = None
    note: str | None = None
    decided_by: str | None = None


class Review(_Model):
    """A review gate's review with a page of its items."""

    job_id: str
    step: str
    step_name: str = ""
    step_status: str = ""
    status: str = "open"
    editable: dict[str, Any] = Field(default_factory=dict)
    counts: ReviewCounts = Field(default_factory=ReviewCounts)
    items: list[ReviewItem] = Field(default_factory=list)
    matched: int = 0


class Executed(_Model):
    """The outcome of executing a manual step."""

    success: bool
    step: str
    status: str
    attempt: int = 0
    replayed: bool = False
    result: Any = None
    error: str | None = None


# --- investigating runs: compare, failure inbox, saved views ---------------------------------


class DiffEntry(_Model):
    path: str
    change: str  # added, removed, changed
    a: Any = None
    b: Any = None


class CompareJob(_Model):
    id: str
    workflow_name: str | None = None
    workflow_version: int | None = None
    status: str
    duration_seconds: float | None = None
    total_cost: float = 0.0


class CompareStepSide(_Model):
    status: str
    attempts: int = 0
    duration_seconds: float | None = None
    cost_usd: float = 0.0
    error_message: str | None = None
    reused_from_job_id: str | None = None


class MetricDelta(_Model):
    name: str
    unit: str | None = None
    a: float | None = None
    b: float | None = None
    delta: float | None = None


class CompareStep(_Model):
    step_key: str
    name: str = ""
    presence: str  # both, only_a, only_b
    a: CompareStepSide | None = None
    b: CompareStepSide | None = None
    duration_delta: float | None = None
    cost_delta: float | None = None
    metrics: list[MetricDelta] = Field(default_factory=list)
    output_equal: bool | None = None
    output_diff: list[DiffEntry] = Field(default_factory=list)
    output_diff_truncated: bool = False
    same: bool = False


class Comparison(_Model):
    a: CompareJob
    b: CompareJob
    same_version: bool = True
    input_diff: list[DiffEntry] = Field(default_factory=list)
    steps: list[CompareStep] = Field(default_factory=list)
    first_divergence: str | None = None
    summary: str = ""


class FailureGroup(_Model):
    fingerprint: str
    workflow_name: str = ""
    step_key: str = ""
    error_type: str | None = None
    message: str = ""
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    trend: list[int] = Field(default_factory=list)
    status: str = "open"
    reopened: bool = False
    assignee: str | None = None
    note: str | None = None


class FailureGroups(_Model):
    items: list[FailureGroup]
    open: int = 0


class Occurrence(_Model):
    job_id: str
    job_status: str = ""
    failed_at: datetime | None = None
    rerun_job_id: str | None = None


class FailureGroupDetail(FailureGroup):
    occurrences: list[Occurrence] = Field(default_factory=list)


class RerunGroupResult(_Model):
    succeeded: int = 0
    failed: int = 0


class SavedView(_Model):
    id: str
    owner: str | None = None
    name: str
    query: str


class Schedule(_Model):
    id: str
    name: str
    cron: str | None = None
    interval_seconds: float | None = None
    timezone: str = "UTC"
    enabled: bool = True
    overlap: str = ""
    catchup: str = ""
    next_due_at: datetime | None = None
    last_fired_at: datetime | None = None


class ScheduleList(_Model):
    items: list[Schedule]


class NextTimes(_Model):
    schedule_id: str
    timezone: str
    times: list[datetime]


class Budget(_Model):
    id: str
    workflow_name: str | None = None
    period: str
    limit_usd: float
    warn_percent: float
    block: bool
    spent_usd: float
    percent: float
    resets_at: datetime


class BudgetList(_Model):
    items: list[Budget]


class DaySpend(_Model):
    day: date
    spent_usd: float


class DailySpend(_Model):
    items: list[DaySpend]


class HistoryEvent(_Model):
    """One entry of a job's event history (`GET /jobs/{id}/events`)."""

    id: int
    type: str
    step_key: str | None = None
    step_name: str | None = None
    attempt: int | None = None
    from_status: str | None = None
    to_status: str | None = None
    actor: str | None = None
    created_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


class JobEvents(_Model):
    items: list[HistoryEvent]
    next_cursor: str | None = None
    has_more: bool = False


class GanttAttempt(_Model):
    attempt_number: int
    status: str
    worker_name: str | None = None
    pid: int | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_seconds: float | None = None
    error_type: str | None = None
    error_message: str | None = None


class GanttStep(_Model):
    step_key: str
    name: str
    step_index: int
    status: str
    next_attempt_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    attempts: list[GanttAttempt] = Field(default_factory=list)


class JobAttempts(_Model):
    """Every step of a job with all its attempts (`GET /jobs/{id}/attempts`)."""

    now: datetime
    steps: list[GanttStep]
