"""`GET /workers`: the workers of this instance's step queue, the depth of their queues, the
reapers' latest recoveries (this workspace's attempts) and why a pending job would wait."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from backend.http.deps import Viewer, api_redis, transaction
from backend.http.responses import errors
from backend.workers.service import WorkersOverview, overview

router = APIRouter(prefix="/workers", tags=["workers"])


class CurrentStep(BaseModel):
    attempt_id: uuid.UUID
    job_id: uuid.UUID
    workflow_name: str
    step_key: str
    attempt_number: int
    started_at: datetime | None


class WorkerOut(BaseModel):
    name: str
    hostname: str | None
    pid: int | None
    state: str = Field(description="rq's state (busy, idle, ...), or `dead`: its process is gone.")
    queues: list[str]
    started_at: datetime | None
    last_heartbeat: datetime | None
    heartbeat_age_seconds: float | None
    current: CurrentStep | None = Field(
        description="The step it runs now, when that step is this workspace's."
    )
    busy_elsewhere: bool = Field(description="Busy with a step of another workspace (not named).")


class QueueOut(BaseModel):
    name: str
    depth: int = Field(description="Attempts waiting for a worker.")
    workers: int = Field(description="Live workers listening on it.")
    busy: int


class RecoveredOut(BaseModel):
    attempt_id: uuid.UUID
    job_id: uuid.UUID
    step_key: str
    attempt_number: int
    worker_name: str | None
    finished_at: datetime | None


class ReaperOut(BaseModel):
    reaper: str
    last_pass_at: datetime
    silent_for_seconds: float
    passes: int
    recovered_total: int = Field(description="Items it recovered in all (every workspace).")
    last_recovery_at: datetime | None
    last_counts: dict[str, int] = Field(description="What its last recovery did, by kind.")
    recovered: list[RecoveredOut] = Field(
        description="This workspace's attempts in its last recovery."
    )


class DispatchOut(BaseModel):
    queue: str
    live: int
    busy: int
    depth: int
    starting: int
    reason: str = Field(
        description='Why a pending job waits: "2 workers, both busy", "no worker listens on '
        'queue X", ...'
    )


class WorkersOut(BaseModel):
    queue: str = Field(description="The instance's step queue.")
    workers: list[WorkerOut]
    queues: list[QueueOut]
    reapers: list[ReaperOut]
    dispatch: DispatchOut
    reaper_silent_after_seconds: float


@router.get("", response_model=WorkersOut, responses=errors())
def list_workers(principal: Viewer) -> WorkersOut:
    """Live (and dead) workers with their heartbeat age and current step, queue depths, recent
    reaper recoveries. Workers serve the whole instance; a step of another workspace shows as
    `busy_elsewhere`, never by name."""
    with transaction() as conn:
        return _out(overview(conn, api_redis(), principal.workspace_id))


def _out(o: WorkersOverview) -> WorkersOut:
    return WorkersOut(
        queue=o.queue,
        workers=[
            WorkerOut(
                name=w.name,
                hostname=w.hostname,
                pid=w.pid,
                state=w.state,
                queues=w.queues,
                started_at=w.started_at,
                last_heartbeat=w.last_heartbeat,
                heartbeat_age_seconds=w.heartbeat_age_seconds,
                current=None
                if w.current is None
                else CurrentStep(
                    attempt_id=w.current.id,
                    job_id=w.current.job_id,
                    workflow_name=w.current.workflow_name,
                    step_key=w.current.step_key,
                    attempt_number=w.current.attempt_number,
                    started_at=w.current.started_at,
                ),
                busy_elsewhere=w.other_workspace,
            )
            for w in o.workers
        ],
        queues=[QueueOut.model_validate(q, from_attributes=True) for q in o.queues],
        reapers=[
            ReaperOut(
                reaper=r.reaper,
                last_pass_at=r.last_pass_at,
                silent_for_seconds=r.silent_for_seconds,
                passes=r.passes,
                recovered_total=r.recovered_total,
                last_recovery_at=r.last_recovery_at,
                last_counts=r.last_counts,
                recovered=[
                    RecoveredOut(
                        attempt_id=a.id,
                        job_id=a.job_id,
                        step_key=a.step_key,
                        attempt_number=a.attempt_number,
                        worker_name=a.worker_name,
                        finished_at=a.finished_at,
                    )
                    for a in r.recovered
                ],
            )
            for r in o.reapers
        ],
        dispatch=DispatchOut.model_validate(o.dispatch, from_attributes=True),
        reaper_silent_after_seconds=o.reaper_silent_after_seconds,
    )
