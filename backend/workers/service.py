"""Workers and queues now: the live rq workers of the instance's step queue (name, host, pid,
state, the step each runs, since when, heartbeat age), the depth of every queue they listen
on, the reapers' latest recoveries, and why a pending job waits ("2 workers, both busy").

Built on `backend.doctor.worker_health` (the same live/dead/starting split `doctor` and the
pre-flight report judge by). Workers serve every workspace of the instance: the step a worker
runs for another workspace is reported as busy, not named."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from redis import Redis
from rq import Queue, Worker
from rq.worker.base import BaseWorker

from backend.doctor import REAPER_SILENT, WorkerHealth, worker_health
from backend.workers import queries
from backend.workers.queries import RecoveredAttempt, RunningAttempt, WorkerAttempt


@dataclass(frozen=True, slots=True)
class WorkerView:
    name: str
    hostname: str | None
    pid: int | None
    state: str  # busy, idle, suspended, started, dead, ...
    queues: list[str]
    started_at: datetime | None  # the worker's birth
    last_heartbeat: datetime | None
    heartbeat_age_seconds: float | None
    attempt_id: uuid.UUID | None  # the attempt it runs (its row's worker name), when ours
    current: RunningAttempt | None  # that attempt, when it is the caller's workspace's
    other_workspace: bool  # busy with an attempt of another workspace


@dataclass(frozen=True, slots=True)
class QueueView:
    name: str
    depth: int
    workers: int  # live workers listening on it
    busy: int


@dataclass(frozen=True, slots=True)
class ReaperView:
    reaper: str
    last_pass_at: datetime
    silent_for_seconds: float
    passes: int
    recovered_total: int
    last_recovery_at: datetime | None
    last_counts: dict[str, int]
    recovered: list[RecoveredAttempt]  # this workspace's attempts of its last recovery


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Why a pending job waits, as far as the workers tell."""

    queue: str
    live: int
    busy: int
    depth: int
    starting: int
    reason: str


@dataclass(frozen=True, slots=True)
class WorkersOverview:
    queue: str  # the instance's step queue
    workers: list[WorkerView]
    queues: list[QueueView]
    reapers: list[ReaperView]
    dispatch: Dispatch
    reaper_silent_after_seconds: float = REAPER_SILENT


def overview(
    conn: psycopg.Connection[Any], redis: Redis, workspace_id: uuid.UUID
) -> WorkersOverview:
    health = worker_health(redis)
    rq_workers = {w.name: w for w in Worker.all(connection=redis)}
    running = queries.current_attempts(
        conn, [name for name in rq_workers if not _is_dead(health, name)]
    )
    now = datetime.now(UTC)
    views = [
        _worker_view(w, running.get(w["name"]), workspace_id, now, rq_workers.get(w["name"]))
        for w in [*health.live, *health.dead]
    ]
    return WorkersOverview(
        queue=health.queue,
        workers=sorted(views, key=lambda v: (v.state == "dead", v.name)),
        queues=_queues(redis, health, views),
        reapers=[_reaper_view(conn, workspace_id, r) for r in queries.reaper_rows(conn)],
        dispatch=dispatch(health, views),
    )


def _is_dead(health: WorkerHealth, name: str) -> bool:
    return any(d["name"] == name for d in health.dead)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _worker_view(
    described: dict[str, Any],
    running: WorkerAttempt | None,
    workspace_id: uuid.UUID,
    now: datetime,
    worker: BaseWorker | None,
) -> WorkerView:
    heartbeat = _utc(worker.last_heartbeat) if worker else None
    state = "dead" if described["dead"] else described["state"]
    current = running if running and running.workspace_id == workspace_id else None
    return WorkerView(
        name=described["name"],
        hostname=described["hostname"],
        pid=described["pid"],
        state=state,
        queues=list(described["queues"]),
        started_at=_utc(worker.birth_date) if worker else None,
        last_heartbeat=heartbeat,
        heartbeat_age_seconds=max(0.0, (now - heartbeat).total_seconds()) if heartbeat else None,
        attempt_id=current.id if current else None,
        current=current,
        other_workspace=running is not None and current is None and state != "dead",
    )


def _queues(redis: Redis, health: WorkerHealth, views: list[WorkerView]) -> list[QueueView]:
    """The step queue first, then any other queue a live worker listens on."""
    live = [v for v in views if v.state != "dead"]
    names = [health.queue, *sorted({q for v in live for q in v.queues} - {health.queue})]
    return [
        QueueView(
            name=name,
            depth=health.depth if name == health.queue else Queue(name, connection=redis).count,
            workers=sum(1 for v in live if name in v.queues),
            busy=sum(1 for v in live if name in v.queues and _busy(v)),
        )
        for name in names
    ]


def _busy(view: WorkerView) -> bool:
    return view.state == "busy" or view.attempt_id is not None or view.other_workspace


def dispatch(health: WorkerHealth, views: list[WorkerView]) -> Dispatch:
    live = [v for v in views if v.state != "dead"]
    busy = sum(1 for v in live if _busy(v))
    starting = sum(int(s.get("count", 0)) for s in health.starting)
    return Dispatch(
        queue=health.queue,
        live=len(live),
        busy=busy,
        depth=health.depth,
        starting=starting,
        reason=pending_reason(health.queue, len(live), busy, health.depth, starting),
    )


def pending_reason(queue: str, live: int, busy: int, depth: int, starting: int) -> str:
    """What a pending job waits for, in the operator's words."""
    ahead = f"; {depth} attempt(s) queued" if depth else ""
    if live == 0:
        if starting:
            return f"no worker on queue {queue} yet: {starting} starting"
        return f"no worker listens on queue {queue}: start one with `jobmonitor worker`"
    if busy >= live:
        every = "busy" if live == 1 else ("both busy" if live == 2 else "all busy")
        return f"{live} worker{'s' if live != 1 else ''}, {every}{ahead}"
    return f"{live - busy} of {live} worker(s) idle: it should start in a moment{ahead}"


def _reaper_view(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, row: dict[str, Any]
) -> ReaperView:
    recovered = row["last_recovered"] or {}
    ids = [uuid.UUID(i) for kind in ("lost", "requeued") for i in recovered.get(kind, [])]
    return ReaperView(
        reaper=row["reaper"],
        last_pass_at=row["last_pass_at"],
        silent_for_seconds=float(row["silent_for"]),
        passes=int(row["passes"]),
        recovered_total=int(row["recovered_total"]),
        last_recovery_at=row["last_recovery_at"],
        last_counts={k: int(v) for k, v in (recovered.get("counts") or {}).items()},
        recovered=queries.recovered_attempts(conn, workspace_id, ids),
    )
