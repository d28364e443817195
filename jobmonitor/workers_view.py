"""Rows of the workers page, built from `GET /workers` with the text already formatted."""

from __future__ import annotations

from dataclasses import dataclass, field

from apiclient import ops_models as ops
from apiclient.format import DASH, duration_text
from jobmonitor import routes
from jobmonitor.format import iso

HEARTBEAT_LATE = 60.0  # seconds: a busy rq worker heartbeats about every 30 s; later is amber


@dataclass
class WorkerRow:
    name: str = ""
    host: str = ""
    pid: str = ""
    state: str = ""
    current: str = ""  # "echo3 #…: step a (attempt 1)", "busy (another workspace)", or a dash
    current_href: str = ""
    since: str = ""  # ISO: the current step's start, else the worker's
    heartbeat: str = ""  # "3 s ago"
    heartbeat_late: bool = False
    queues: str = ""


@dataclass
class QueueRow:
    name: str = ""
    depth: int = 0
    workers: str = ""  # "2 (2 busy)"


@dataclass
class RecoveryRow:
    reaper: str = ""
    last_pass: str = ""  # ISO
    silent: bool = False
    recovered_total: int = 0
    last_recovery: str = ""  # ISO, "" when none
    counts: str = ""  # "1 lost, 1 requeued"
    attempts: list[RecoveredRow] = field(default_factory=list)


@dataclass
class RecoveredRow:
    label: str = ""  # "step a (attempt 1) of job 1a2b3c4d, lost by worker.x"
    href: str = ""


def worker_rows(w: ops.Workers) -> list[WorkerRow]:
    return [_worker(x) for x in w.workers]


def _worker(x: ops.WorkerInfo) -> WorkerRow:
    current, href = DASH, ""
    if x.current is not None:
        c = x.current
        current = f"{c.workflow_name}: {c.step_key} (attempt {c.attempt_number})"
        href = routes.job_step(c.job_id, c.step_key)
    elif x.busy_elsewhere:
        current = "busy (another workspace)"
    age = x.heartbeat_age_seconds
    return WorkerRow(
        name=x.name,
        host=x.hostname or DASH,
        pid=str(x.pid) if x.pid else DASH,
        state=x.state,
        current=current,
        current_href=href,
        since=iso(x.current.started_at if x.current and x.current.started_at else x.started_at),
        heartbeat=DASH if age is None else f"{duration_text(age)} ago",
        heartbeat_late=age is not None and age > HEARTBEAT_LATE,
        queues=", ".join(x.queues),
    )


def queue_rows(w: ops.Workers) -> list[QueueRow]:
    return [
        QueueRow(name=q.name, depth=q.depth, workers=f"{q.workers} ({q.busy} busy)")
        for q in w.queues
    ]


def recovery_rows(w: ops.Workers) -> list[RecoveryRow]:
    return [
        RecoveryRow(
            reaper=r.reaper,
            last_pass=iso(r.last_pass_at),
            silent=r.silent_for_seconds > w.reaper_silent_after_seconds,
            recovered_total=r.recovered_total,
            last_recovery=iso(r.last_recovery_at),
            counts=", ".join(f"{n} {kind}" for kind, n in r.last_counts.items() if n)
            or "nothing recovered",
            attempts=[
                RecoveredRow(
                    label=f"{a.step_key} (attempt {a.attempt_number}) of job {a.job_id[:8]}"
                    + (f", worker {a.worker_name}" if a.worker_name else ""),
                    href=routes.job_step(a.job_id, a.step_key),
                )
                for a in r.recovered
            ],
        )
        for r in w.reapers
    ]
