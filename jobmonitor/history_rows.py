"""What the job page's Event history and Gantt tabs render: plain rows built from the API's
`/jobs/{id}/events` and `/jobs/{id}/attempts` (text already written, geometry already
computed). Pure, so the wording and the layout are unit-tested without a browser."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from apiclient import models as t
from apiclient.format import duration_text
from jobmonitor import gantt
from jobmonitor.format import iso, short_id
from jobmonitor.statuses import style as status_style

# the colour of an event's dot: what it tells, not the status it moved from
_TONES = {
    "workflow_created": "gray",
    "workflow_started": "blue",
    "workflow_completed": "green",
    "workflow_failed": "red",
    "cancelled": "orange",
    "workflow_resumed": "green",
    "job_rerun": "indigo",
    "step_started": "blue",
    "step_completed": "green",
    "step_failed": "red",
    "retrying": "amber",
    "attempt_lost": "red",
    "step_cancelled": "orange",
}


@dataclass
class EventRow:
    """One line of the event history."""

    id: int = 0
    at: str = ""  # ISO time (the browser shows it in its own zone)
    offset: str = ""  # since the job was created: "+12.3s"
    type: str = ""
    title: str = ""  # "Attempt 2 failed", "Job cancelled"
    detail: str = ""  # the error, reason or worker
    step_key: str = ""
    step_name: str = ""
    actor: str = ""  # who asked (created, cancel, resume, re-run)
    link: str = ""  # a job the event points to (the re-run, the original)
    link_label: str = ""
    tone: str = "gray"


def _attempt(e: t.HistoryEvent) -> str:
    return f"Attempt {e.attempt}" if e.attempt else "Attempt"


def _title(e: t.HistoryEvent) -> str:
    d = e.data
    titles = {
        "workflow_created": "Job created",
        "workflow_started": "Job started",
        "workflow_completed": "Job completed",
        "workflow_failed": "Job failed",
        "cancelled": "Job cancelled",
        "workflow_resumed": "Job resumed",
        "job_rerun": "Re-run" + (f" from step {d['from_step']}" if d.get("from_step") else ""),
        "step_queued": "Queued" + (f" (attempt {d['attempt']})" if d.get("attempt") else ""),
        "step_started": f"{_attempt(e)} started",
        "step_failed": f"{_attempt(e)} failed" + (", will retry" if d.get("will_retry") else ""),
        "retrying": "Retrying"
        + (f" in {duration_text(d['retry_in_seconds'])}" if "retry_in_seconds" in d else ""),
        "step_completed": f"{_attempt(e)} completed",
        "step_skipped": "Skipped",
        "step_cancelled": "Step cancelled",
        "step_reset": "Reset to run again",
        "step_waiting": "Waiting for a person",
        "step_reused": "Output reused",
        "attempt_lost": f"{_attempt(e)} lost (its worker stopped)",
        "log": f"{d.get('lines', 'Some')} log line" + ("" if d.get("lines") == 1 else "s"),
    }
    return titles.get(e.type, e.type.replace("_", " ").capitalize())


def _detail(e: t.HistoryEvent) -> str:
    d = e.data
    if e.type == "step_started" and d.get("worker"):
        return f"on {d['worker']}"
    if e.type == "step_completed" and d.get("duration_seconds") is not None:
        return f"in {duration_text(d['duration_seconds'])}"
    for key in ("error", "reason", "last"):
        value = d.get(key)
        if value and value != "cancelled":
            return str(value)[:500]
    return ""


def _link(e: t.HistoryEvent) -> tuple[str, str]:
    d = e.data
    if e.type == "job_rerun" and d.get("new_job_id"):
        return f"/jobs/{d['new_job_id']}", f"new job {short_id(str(d['new_job_id']))}"
    if e.type == "workflow_created" and d.get("rerun_of"):
        return f"/jobs/{d['rerun_of']}", f"re-run of {short_id(str(d['rerun_of']))}"
    if e.type == "step_reused" and d.get("reused_from_job_id"):
        job = str(d["reused_from_job_id"])
        return f"/jobs/{job}", f"from job {short_id(job)}"
    return "", ""


def event_row(e: t.HistoryEvent, origin: datetime | None) -> EventRow:
    link, link_label = _link(e)
    since = (e.created_at - origin).total_seconds() if origin else 0.0
    return EventRow(
        id=e.id,
        at=iso(e.created_at),
        offset="+" + duration_text(max(since, 0.0)),
        type=e.type,
        title=_title(e),
        detail=_detail(e),
        step_key=e.step_key or "",
        step_name=e.step_name or e.step_key or "",
        actor=e.actor or "",
        link=link,
        link_label=link_label,
        tone=_TONES.get(e.type, "gray"),
    )


@dataclass
class StepOption:
    key: str = ""
    label: str = ""


def step_options(steps: list[t.GanttStep]) -> list[StepOption]:
    return [StepOption(s.step_key, f"{s.step_index}. {s.name}") for s in steps]


@dataclass
class SegmentRow:
    kind: str = ""  # attempt | backoff | scheduled
    attempt: int = 0
    status: str = ""
    color: str = "gray"
    left: float = 0.0
    width: float = 0.0
    label: str = ""


@dataclass
class GanttRow:
    key: str = ""
    index: int = 0
    name: str = ""
    status: str = ""
    attempts: int = 0
    segments: list[SegmentRow] = field(default_factory=list)


@dataclass
class GanttView:
    rows: list[GanttRow] = field(default_factory=list)
    ticks: list[str] = field(default_factory=list)
    can_zoom: bool = False  # a running part exists that zooming would enlarge
    zoomed: bool = False  # the rows show the running part only


def lanes(steps: list[t.GanttStep]) -> list[gantt.Lane]:
    return [
        gantt.Lane(
            key=s.step_key,
            name=s.name,
            status=s.status,
            next_attempt_at=s.next_attempt_at,
            tries=tuple(
                gantt.Try(
                    a.attempt_number,
                    a.status,
                    a.started_at,
                    a.finished_at,
                    a.worker_name,
                    a.pid,
                    ": ".join(x for x in (a.error_type, a.error_message) if x) or None,
                )
                for a in s.attempts
            ),
        )
        for s in steps
    ]


def gantt_view(data: t.JobAttempts, zoom: bool) -> GanttView:
    """The Gantt rows over the whole run, or over its running part when `zoom` is asked and
    there is one."""
    all_lanes = lanes(data.steps)
    running = gantt.zoomed(all_lanes, data.now)
    window = (running if zoom else None) or gantt.whole(all_lanes, data.now)
    rows = [
        GanttRow(
            key=s.step_key,
            index=s.step_index,
            name=s.name,
            status=s.status,
            attempts=len(s.attempts),
            segments=[
                SegmentRow(
                    seg.kind,
                    seg.attempt,
                    seg.status,
                    status_style(seg.status).color,
                    seg.left,
                    seg.width,
                    seg.label,
                )
                for seg in (gantt.segments(window, lane, data.now) if window else [])
            ],
        )
        for s, lane in zip(data.steps, all_lanes, strict=True)
    ]
    return GanttView(
        rows=rows,
        ticks=gantt.window_ticks(window) if window else [],
        can_zoom=running is not None,
        zoomed=zoom and running is not None,
    )
