"""The runs grid and the workers overview as the web monitor reads them (pydantic models of
`GET /workflows/{id}/runs-grid` and `GET /workers`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class GridRun(_Model):
    job_id: str
    execution_number: int
    status: str
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None


class GridCell(_Model):
    job_id: str
    status: str
    attempts: int = 0
    duration_seconds: float | None = None


class GridStep(_Model):
    key: str
    name: str
    cells: list[GridCell | None]


class RunsGrid(_Model):
    workflow_id: str
    workflow_name: str
    runs: list[GridRun]
    steps: list[GridStep]


class CurrentStep(_Model):
    attempt_id: str
    job_id: str
    workflow_name: str
    step_key: str
    attempt_number: int
    started_at: datetime | None = None


class WorkerInfo(_Model):
    name: str
    hostname: str | None = None
    pid: int | None = None
    state: str
    queues: list[str] = []
    started_at: datetime | None = None
    last_heartbeat: datetime | None = None
    heartbeat_age_seconds: float | None = None
    current: CurrentStep | None = None
    busy_elsewhere: bool = False


class QueueInfo(_Model):
    name: str
    depth: int
    workers: int
    busy: int


class Recovered(_Model):
    attempt_id: str
    job_id: str
    step_key: str
    attempt_number: int
    worker_name: str | None = None
    finished_at: datetime | None = None


class ReaperInfo(_Model):
    reaper: str
    last_pass_at: datetime
    silent_for_seconds: float
    passes: int
    recovered_total: int
    last_recovery_at: datetime | None = None
    last_counts: dict[str, int] = {}
    recovered: list[Recovered] = []


class Dispatch(_Model):
    queue: str
    live: int
    busy: int
    depth: int
    starting: int = 0
    reason: str


class Workers(_Model):
    queue: str
    workers: list[WorkerInfo]
    queues: list[QueueInfo]
    reapers: list[ReaperInfo]
    dispatch: Dispatch
    reaper_silent_after_seconds: float = 60.0
