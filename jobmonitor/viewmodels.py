"""What the views render: plain rows built from API resources (text already formatted,
allowed actions already decided), and the reducers that apply a live event to them.

State classes hold these rows; components read their fields as Vars. Everything here is
pure, so the list/detail behaviour is unit-tested without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from apiclient import models as t
from apiclient.format import cost_text, duration_text
from backend.jobs.statuses import JOB_TERMINAL, JobStatus, success_rate
from jobmonitor import gantt
from jobmonitor.format import elapsed, iso, job_duration, pretty_json, progress_text, short_id
from jobmonitor.statuses import (
    DRAFT_LABELS,
    STEP_ACTIVE,
    WAITING_LABELS,
    JobAction,
    job_actions,
)


@dataclass
class JobRow:
    id: str = ""
    short_id: str = ""
    workflow_id: str = ""
    workflow_name: str = ""
    status: str = ""
    created_at: str = ""
    started_at: str = ""
    duration: str = ""
    progress: str = ""
    steps_done: int = 0
    step_count: int = 0
    cost: str = ""
    error: str = ""
    actions: list[JobAction] = field(default_factory=list)
    waiting: str = ""  # the chip of a job waiting for a person ("" when it waits for nobody)


@dataclass
class JobInfo:
    id: str = ""
    workflow_id: str = ""
    workflow_name: str = ""
    execution_number: int = 0
    status: str = ""
    created_at: str = ""
    started_at: str = ""
    completed_at: str = ""
    duration: str = ""
    cost: str = ""
    progress: int = 0
    progress_label: str = ""
    error: str = ""
    rerun_of: str = ""
    actions: list[JobAction] = field(default_factory=list)  # the panel's buttons (no View)
    draft: str = ""  # the draft state of a job with a review gate ("" for none)


@dataclass
class StepRow:
    """A step in the timeline: small, since every live update sends the whole list."""

    key: str = ""
    index: int = 0
    name: str = ""
    status: str = ""
    attempts: int = 0
    duration: str = ""
    cost: str = ""
    error: str = ""
    error_long: bool = False  # more than the two lines the timeline shows at first
    progress: int = 0
    bar_left: float = 0.0
    bar_width: float = 0.0
    bar_visible: bool = False


@dataclass
class StepDetail:
    """What the step details panel shows beyond the timeline row."""

    key: str = ""
    action: str = ""
    max_attempts: int = 0
    started_at: str = ""
    completed_at: str = ""
    error_type: str = ""
    depends_on: str = ""
    params_json: str = ""
    input_json: str = ""
    output_json: str = ""
    reused_from: str = ""  # the job whose output a from-step re-run reused
    next_attempt_at: str = ""  # a retrying step's next try (ISO, UTC)


@dataclass
class AttemptRow:
    id: str = ""
    number: int = 0
    status: str = ""
    worker: str = ""
    started_at: str = ""
    duration: str = ""
    error: str = ""
    traceback: str = ""
    cost: str = ""
    metrics: str = ""
    latest: bool = False  # the step's current attempt (its output is the step's)


@dataclass
class LogRow:
    id: int = 0
    time: str = ""
    level: str = ""
    message: str = ""


ERROR_LINES_CHARS = 80  # about two lines of the timeline's error at 1440 px


def _now() -> datetime:
    return datetime.now(UTC)


def job_row(job: t.JobSummary, now: datetime | None = None) -> JobRow:
    return JobRow(
        id=job.id,
        short_id=short_id(job.id),
        workflow_id=job.workflow_id,
        workflow_name=job.workflow_name or short_id(job.workflow_id),
        status=job.status,
        created_at=iso(job.created_at),
        started_at=iso(job.started_at),
        duration=job_duration(
            job.duration_seconds, job.started_at, job.completed_at, now or _now()
        ),
        progress=progress_text(job.status, job.steps_done, job.step_count),
        steps_done=job.steps_done,
        step_count=job.step_count,
        cost=cost_text(job.total_cost),
        error=job.error_message or "",
        actions=job_actions(job.status),
        waiting="" if job.status in JOB_TERMINAL else WAITING_LABELS.get(job.waiting_for or "", ""),
    )


def job_info(job: t.Job, now: datetime | None = None) -> JobInfo:
    done = job.step_count and job.steps_done / job.step_count
    return JobInfo(
        id=job.id,
        workflow_id=job.workflow_id,
        workflow_name=job.workflow_name or short_id(job.workflow_id),
        execution_number=job.execution_number or 0,
        status=job.status,
        created_at=iso(job.created_at),
        started_at=iso(job.started_at),
        completed_at=iso(job.completed_at),
        duration=job_duration(
            job.duration_seconds, job.started_at, job.completed_at, now or _now()
        ),
        cost=cost_text(job.total_cost),
        progress=round((done or 0) * 100),
        progress_label=progress_text(job.status, job.steps_done, job.step_count),
        error=(job.error_message or "Failed") if job.status == "failed" else "",
        rerun_of=job.rerun_of or "",
        actions=detail_actions(job.status),
        draft=DRAFT_LABELS.get(job.draft_state, job.draft_state),
    )


def detail_actions(status: str) -> list[JobAction]:
    """The job page's buttons: the row actions but View (the page is the view)."""
    return [a for a in job_actions(status) if a is not JobAction.VIEW]


def step_rows(steps: list[t.Step], now: datetime | None = None) -> list[StepRow]:
    """Every step in order, each with its Gantt bar on the job's shared time axis."""
    now = now or _now()
    ordered = sorted(steps, key=lambda s: s.step_index)
    bars = gantt.bars([gantt.Span(s.started_at, s.completed_at) for s in ordered], now)
    return [_step_row(s, bar, now) for s, bar in zip(ordered, bars, strict=True)]


def _step_row(s: t.Step, bar: gantt.Bar, now: datetime) -> StepRow:
    error = shown_error(s.status, s.error_message or "")
    seconds = s.duration_seconds
    if seconds is None and s.status in STEP_ACTIVE:
        seconds = elapsed(s.started_at, None, now)
    return StepRow(
        key=s.step_key,
        index=s.step_index,
        name=s.name,
        status=s.status,
        attempts=s.attempt_number,
        duration=duration_text(seconds),
        cost=cost_text(s.cost_usd),
        error=error,
        error_long=len(error) > ERROR_LINES_CHARS or "\n" in error,
        progress=round(s.progress * 100),
        bar_left=bar.left,
        bar_width=bar.width,
        bar_visible=bar.visible,
    )


def step_detail(s: t.Step) -> StepDetail:
    return StepDetail(
        key=s.step_key,
        action=s.action,
        max_attempts=s.max_attempts or 0,
        started_at=iso(s.started_at),
        completed_at=iso(s.completed_at),
        error_type=s.error_type or "",
        depends_on=", ".join(s.depends_on),
        params_json=pretty_json(s.params),
        input_json=payload_json(s.input_data),  # "" until the step is claimed
        output_json=pretty_json(s.output_data),
        reused_from=s.reused_from_job_id or "",
        next_attempt_at=iso(s.next_attempt_at),
    )


def payload_json(value: object) -> str:
    """A job payload as JSON text ("" when there is none yet)."""
    return "" if value is None else pretty_json(value)


def attempt_row(a: t.Attempt) -> AttemptRow:
    metrics = ", ".join(_metric(m) for m in a.metrics)
    tokens = [c for c in a.costs if c.get("tokens_in") or c.get("tokens_out")]
    if tokens:
        used = ", ".join(
            f"{c.get('model') or c.get('kind')}: {c.get('tokens_in', 0)} in / {c.get('tokens_out', 0)} out"
            for c in tokens
        )
        metrics = f"{metrics}; {used}" if metrics else used
    return AttemptRow(
        id=a.id,
        number=a.attempt_number,
        status=a.status,
        worker=a.worker_name or "",
        started_at=iso(a.started_at),
        duration=duration_text(a.duration_seconds),
        error=": ".join(
            p for p in (a.error_type, shown_error(a.status, a.error_message or "")) if p
        ),
        traceback=a.traceback or "",
        cost=cost_text(a.cost_usd),
        metrics=metrics,
    )


def attempt_rows(attempts: list[t.Attempt]) -> list[AttemptRow]:
    """A step's attempts, oldest first, the current (highest) one marked `latest`."""
    rows = sorted((attempt_row(a) for a in attempts), key=lambda r: r.number)
    return [replace(r, latest=True) if i == len(rows) - 1 else r for i, r in enumerate(rows)]


def _metric(m: dict[str, object]) -> str:
    value = m.get("value")
    shown = f"{value:g}" if isinstance(value, int | float) else str(value)
    return f"{m.get('name')} = {shown}" + (f" {m['unit']}" if m.get("unit") else "")


def shown_error(status: str, error: str) -> str:
    """A step's or attempt's error as the panel shows it: "" when it only repeats the status
    (a cancelled step's "cancelled"), the reason alone for "cancelled: <reason>"."""
    text = error.strip()
    if status != "cancelled":
        return text
    head, _, reason = text.partition(":")
    if head.strip().lower() in ("cancelled", "canceled"):
        return reason.strip()
    return text


def log_row(line: t.LogLine) -> LogRow:
    time = line.created_at.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3] if line.created_at else ""
    return LogRow(id=line.id, time=time, level=line.level.upper(), message=line.message)


# live events

_JOB_STATUSES = frozenset(JobStatus)  # `"x" in JobStatus` raises TypeError before Python 3.12


def is_job_status_event(event: t.Event) -> bool:
    return event.step_key is None and event.to_status in _JOB_STATUSES


def keep_positions(shown: list[JobRow], fresh: list[JobRow]) -> tuple[list[JobRow], int]:
    """The shown rows in their places, each updated from `fresh` (a row gone from it stays
    as it was), and how many fresh rows are held back: while the pointer is over the table,
    a new job must not push the row under it down."""
    by_id = {r.id: r for r in fresh}
    ids = {r.id for r in shown}
    return [by_id.get(r.id, r) for r in shown], sum(1 for r in fresh if r.id not in ids)


def apply_to_rows(rows: list[JobRow], event: t.Event) -> list[JobRow] | None:
    """The list rows with the event's job status applied, or None when no row changed."""
    if not is_job_status_event(event) or not any(r.id == event.job_id for r in rows):
        return None
    status = str(event.to_status)
    return [
        replace(
            r,
            status=status,
            actions=job_actions(status),
            progress=progress_text(status, r.steps_done, r.step_count),
        )
        if r.id == event.job_id
        else r
        for r in rows
    ]


def apply_to_job(job: JobInfo, event: t.Event) -> JobInfo | None:
    """The job with the event's status applied, or None when it does not change it."""
    if event.job_id != job.id or not is_job_status_event(event) or event.to_status == job.status:
        return None
    status = str(event.to_status)
    return replace(job, status=status, actions=detail_actions(status))


def apply_to_steps(steps: list[StepRow], event: t.Event) -> list[StepRow] | None:
    """The steps with the event's step status applied, or None when none changed."""
    if event.step_key is None or not event.to_status:
        return None
    status = event.to_status
    if not any(s.key == event.step_key and s.status != status for s in steps):
        return None
    return [replace(s, status=status) if s.key == event.step_key else s for s in steps]


def is_terminal(status: str) -> bool:
    return status in JOB_TERMINAL


def running_step(steps: list[StepRow]) -> str:
    """The key of the step being worked on (the first active one), or ""."""
    return next((s.key for s in steps if s.status in STEP_ACTIVE), "")


# workflows


@dataclass
class WorkflowRow:
    id: str = ""
    name: str = ""
    description: str = ""
    steps: int = 0
    executions: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    success_rate: str = ""


@dataclass
class ChartBar:
    job_id: str = ""
    status: str = ""
    height: float = 0.0  # percent of the tallest bar
    label: str = ""


def workflow_row(w: t.Workflow) -> WorkflowRow:
    counts = w.job_counts
    rate = success_rate(counts)
    return WorkflowRow(
        id=w.id,
        name=w.name,
        description=w.description,
        steps=w.step_count,
        executions=w.execution_count,
        running=counts.get("running", 0) + counts.get("pending", 0),
        completed=counts.get("completed", 0),
        failed=counts.get("failed", 0),
        success_rate="—" if rate is None else f"{rate:.1f}%",
    )


def duration_bars(executions: list[t.Execution]) -> list[ChartBar]:
    """Bars of the recent jobs' durations, oldest first, scaled to the longest."""
    ordered = sorted(
        executions, key=lambda e: e.created_at or e.started_at or datetime.min.replace(tzinfo=UTC)
    )
    longest = max((e.duration or 0.0 for e in ordered), default=0.0) or 1.0
    return [
        ChartBar(
            job_id=e.id,
            status=e.status if e.status != "timeout" else "failed",
            height=round(max((e.duration or 0.0) / longest * 100, 1.0), 2),
            label=f"#{e.execution_number or '?'} {e.status}: {duration_text(e.duration)}",
        )
        for e in ordered
    ]


def bulk_summary(action: JobAction, results: list[Any]) -> str:
    """ "Cancelled 2 of 3 jobs. Not cancelled: 1a2b3c4d (job ... is completed)"."""
    verb = {JobAction.CANCEL: "Cancelled", JobAction.DELETE: "Deleted"}.get(action, action.label)
    ok = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    text = f"{verb} {len(ok)} of {len(results)} job{'s' if len(results) != 1 else ''}."
    if failed:
        reasons = "; ".join(f"{r.id[:8]}: {r.reason}" for r in failed)
        text += f" Not {verb.lower()}: {reasons}"
    return text
