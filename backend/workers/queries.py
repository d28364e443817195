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


def running_attempts(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, RunningAttempt]:
    """The workspace's attempts among `ids` (the workers' current rq job ids), by primary key."""
    if not ids:
        return {}
    rows = (
        conn.cursor(row_factory=class_row(RunningAttempt))
        .execute(
            """
            SELECT a.id, a.job_id, a.step_key, a.attempt_number, a.started_at,
                   w.name AS workflow_name
            FROM step_attempts a JOIN jobs j ON j.id = a.job_id
            JOIN workflows w ON w.id = j.workflow_id
            WHERE a.id = ANY(%s::uuid[]) AND a.workspace_id = %s
            """,
            (ids, workspace_id),
        )
        .fetchall()
    )
    return {r.id: r for r in rows}


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
