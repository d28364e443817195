"""SQL of the workers view: the attempts the workers run now and what the reaper recovered,
each limited to the caller's workspace (workers are shared by every workspace of an
instance; what they run for another workspace is not named)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row

from backend.jobs.states import AttemptStatus, sql_literal


@dataclass(frozen=True, slots=True)
class RunningAttempt:
    id: uuid.UUID
    job_id: uuid.UUID
    step_key: str
    attempt_number: int
    started_at: datetime | None
    workflow_name: str


@dataclass(frozen=True, slots=True)
class RecoveredAttempt:
    id: uuid.UUID
    job_id: uuid.UUID
    step_key: str
    attempt_number: int
    worker_name: str | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class WorkerAttempt(RunningAttempt):
    """A worker's running attempt, and whose workspace it is (a row of current_attempts)."""

    worker_name: str
    workspace_id: uuid.UUID


def current_attempts(
    conn: psycopg.Connection[Any], worker_names: list[str]
) -> dict[str, WorkerAttempt]:
    """The running attempt of each of these workers (its latest, by the attempt rows' worker
    names: steps taken from rq and continued ones alike), by worker name."""
    if not worker_names:
        return {}
    with conn.cursor(row_factory=class_row(WorkerAttempt)) as cur:
        rows = cur.execute(
            f"""
            SELECT DISTINCT ON (a.worker_name) a.worker_name, a.workspace_id, a.id, a.job_id,
                   a.step_key, a.attempt_number, a.started_at, w.name AS workflow_name
            FROM step_attempts a JOIN jobs j ON j.id = a.job_id
            JOIN workflows w ON w.id = j.workflow_id
            WHERE a.status = {sql_literal(AttemptStatus.RUNNING)} AND a.worker_name = ANY(%s)
            ORDER BY a.worker_name, a.started_at DESC
            """,
            (worker_names,),
        ).fetchall()
    return {r.worker_name: r for r in rows}


def recovered_attempts(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ids: list[uuid.UUID]
) -> list[RecoveredAttempt]:
    """The workspace's attempts among `ids` (a reaper pass's lost or re-enqueued ones)."""
    if not ids:
        return []
    return (
        conn.cursor(row_factory=class_row(RecoveredAttempt))
        .execute(
            """
            SELECT id, job_id, step_key, attempt_number, worker_name, finished_at
            FROM step_attempts WHERE id = ANY(%s::uuid[]) AND workspace_id = %s
            ORDER BY finished_at DESC NULLS LAST, id
            """,
            (ids, workspace_id),
        )
        .fetchall()
    )


def reaper_rows(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every reaper's latest pass and latest recovery (one row per reaper process)."""
    return conn.execute(
        """
        SELECT reaper, last_pass_at, passes, recovered_total, last_recovery_at, last_recovered,
               EXTRACT(EPOCH FROM now() - last_pass_at)::float AS silent_for
        FROM reaper_passes ORDER BY last_pass_at DESC LIMIT 20
        """
    ).fetchall()
