"""The runs grid of a workflow (Airflow's grid view): its last N runs as columns, their steps
as rows, one status per cell. One query: the newest N jobs of the workflow through
`ix_jobs_workflow_created`, and their steps through `uq_job_steps_job_key` (job_id first)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row

MAX_RUNS = 100
DEFAULT_RUNS = 25

GRID_SQL = """
SELECT j.id AS job_id, j.execution_number, j.status AS job_status, j.created_at,
       j.started_at AS job_started_at, j.completed_at AS job_completed_at,
       s.step_key, s.name AS step_name, s.step_index, s.status AS step_status,
       s.attempt_count, s.duration_seconds
FROM (
    SELECT id, execution_number, status, created_at, started_at, completed_at
    FROM jobs
    WHERE workflow_id = %(wf)s AND workspace_id = %(ws)s
    ORDER BY created_at DESC, id DESC
    LIMIT %(runs)s
) j
LEFT JOIN job_steps s ON s.job_id = j.id
ORDER BY j.created_at DESC, j.id DESC, s.step_index
"""


@dataclass(frozen=True, slots=True)
class GridRow:
    """One (run, step) pair; a run without steps yet has one row with the step fields None."""

    job_id: uuid.UUID
    execution_number: int
    job_status: str
    created_at: datetime
    job_started_at: datetime | None
    job_completed_at: datetime | None
    step_key: str | None
    step_name: str | None
    step_index: int | None
    step_status: str | None
    attempt_count: int | None
    duration_seconds: float | None


@dataclass(frozen=True, slots=True)
class GridRun:
    job_id: uuid.UUID
    execution_number: int
    status: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class GridCell:
    job_id: uuid.UUID
    status: str
    attempts: int
    duration_seconds: float | None


@dataclass(frozen=True, slots=True)
class GridStep:
    key: str
    name: str
    cells: list[GridCell | None]  # one per run, in the runs' order; None: the run has no such step


@dataclass(frozen=True, slots=True)
class RunsGrid:
    runs: list[GridRun]  # newest first
    steps: list[GridStep]


def grid_rows(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, workflow_id: uuid.UUID, runs: int
) -> list[GridRow]:
    return (
        conn.cursor(row_factory=class_row(GridRow))
        .execute(GRID_SQL, {"wf": workflow_id, "ws": workspace_id, "runs": runs})
        .fetchall()
    )


def runs_grid(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, workflow_id: uuid.UUID, runs: int
) -> RunsGrid:
    """The grid of the workflow's last `runs` runs (the caller checked the workflow is the
    workspace's and that 1 <= runs <= MAX_RUNS)."""
    return build_grid(grid_rows(conn, workspace_id, workflow_id, runs))


def build_grid(rows: list[GridRow]) -> RunsGrid:
    """Columns in the rows' order (newest first); step rows in the newest run's order, a step
    only older runs have (an earlier version's) after it, in the order it was first met."""
    runs: dict[uuid.UUID, GridRun] = {}
    names: dict[str, str] = {}
    cells: dict[tuple[str, uuid.UUID], GridCell] = {}
    for r in rows:
        runs.setdefault(
            r.job_id,
            GridRun(
                r.job_id,
                r.execution_number,
                r.job_status,
                r.created_at,
                r.job_started_at,
                r.job_completed_at,
            ),
        )
        if r.step_key is None or r.step_status is None:
            continue
        names.setdefault(r.step_key, r.step_name or r.step_key)
        cells[(r.step_key, r.job_id)] = GridCell(
            r.job_id, r.step_status, r.attempt_count or 0, r.duration_seconds
        )
    order = list(runs)
    steps = [
        GridStep(key, name, [cells.get((key, job_id)) for job_id in order])
        for key, name in names.items()
    ]
    return RunsGrid(list(runs.values()), steps)
