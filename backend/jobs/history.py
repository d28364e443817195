"""A job's story for the web monitor and scripts: its event history (every stored event in
order, with who asked for a cancel, resume or re-run) and every attempt of every step on one
time axis (the Gantt). Reads only; each is one indexed query after the job's scoping check."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row

from backend.jobs import queries
from backend.redaction import redact

# what a history entry lifts out of the event's data, for a reader that shows a table
_ATTEMPT_KEYS = ("attempt", "attempt_number")


@dataclass(frozen=True)
class EventPage:
    items: list[dict[str, Any]]
    has_more: bool


def job_events(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    *,
    step: str | None,
    after_id: int,
    limit: int,
) -> EventPage:
    """The job's events after `after_id`, oldest first, optionally one step's; NotFound for
    another workspace's job or a step the job does not have. Event data is always redacted
    (the live stream's rule: events are not for secrets)."""
    queries.get_job(conn, job_id, workspace_id=workspace_id, payloads=False)
    if step is not None:
        queries.find_step(conn, workspace_id, job_id, step)
    rows = conn.execute(
        """
        SELECT e.id, e.type, e.step_key, e.attempt_id, e.from_status, e.to_status, e.data,
               e.created_at, s.name AS step_name, s.duration_seconds AS step_duration,
               a.attempt_number
        FROM job_events e
        LEFT JOIN job_steps s ON s.job_id = e.job_id AND s.step_key = e.step_key
        LEFT JOIN step_attempts a ON a.id = e.attempt_id
        WHERE e.job_id = %(job)s AND e.workspace_id = %(ws)s AND e.id > %(after)s
          AND (%(step)s::text IS NULL OR e.step_key = %(step)s)
        ORDER BY e.id LIMIT %(limit)s
        """,
        {"job": job_id, "ws": workspace_id, "after": after_id, "step": step, "limit": limit + 1},
    ).fetchall()
    return EventPage([_entry(r) for r in rows[:limit]], has_more=len(rows) > limit)


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    data = dict(row["data"] or {})
    actor = data.pop("actor", None)  # our own "token:<name> (jm_<prefix>)": not a secret
    if row["type"] == "step_completed" and row["step_duration"] is not None:
        data.setdefault("duration_seconds", row["step_duration"])
    data = redact(data)
    attempt = row["attempt_number"]
    if attempt is None:
        attempt = next((data[k] for k in _ATTEMPT_KEYS if isinstance(data.get(k), int)), None)
    return {
        "id": row["id"],
        "type": row["type"],
        "step_key": row["step_key"],
        "step_name": row["step_name"] if row["step_key"] is not None else None,
        "attempt_id": row["attempt_id"],
        "attempt": attempt,
        "from_status": row["from_status"],
        "to_status": row["to_status"],
        "actor": actor,
        "created_at": row["created_at"],
        "data": data,
    }


@dataclass(frozen=True, slots=True)
class GanttAttempt:
    step_key: str
    attempt_number: int
    status: str
    worker_name: str | None
    pid: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    error_type: str | None
    error_message: str | None


def job_attempts(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID
) -> dict[str, Any]:
    """Every step in order with each of its attempts (times, worker, outcome) and when a
    retrying step tries again; `now` is the database clock, the end of a running attempt."""
    steps = queries.list_steps(conn, workspace_id, job_id)
    attempts = (
        conn.cursor(row_factory=class_row(GanttAttempt))
        .execute(
            """
            SELECT s.step_key, a.attempt_number, a.status, a.worker_name, a.pid, a.created_at,
                   a.started_at, a.finished_at, a.duration_seconds, a.error_type, a.error_message
            FROM step_attempts a JOIN job_steps s ON s.id = a.step_id
            WHERE a.job_id = %s AND a.workspace_id = %s
            ORDER BY a.step_id, a.attempt_number
            """,
            (job_id, workspace_id),
        )
        .fetchall()
    )
    by_step: dict[str, list[GanttAttempt]] = {}
    for a in attempts:
        by_step.setdefault(a.step_key, []).append(a)
    now = conn.execute("SELECT now() AS now").fetchone()
    return {
        "job_id": job_id,
        "now": now["now"] if now else None,
        "steps": [
            {
                "step_key": s.step_key,
                "name": s.name,
                "step_index": s.step_index,
                "status": s.status,
                "next_attempt_at": s.next_attempt_at,
                "started_at": s.started_at,
                "completed_at": s.completed_at,
                "attempts": by_step.get(s.step_key, []),
            }
            for s in steps
        ],
    }
