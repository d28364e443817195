"""The SQL of the schedules domain: schedules (scoped to a workspace), the scheduler's claim of
a due schedule, and the fires. Rows are frozen types (backend/schedules/rows.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from backend.errors import NotFound
from backend.jobs.states import J, sql_list
from backend.schedules.rows import FireRow, FireStatus, ScheduleRow

_SELECT = (
    "SELECT s.*, w.name AS workflow_name FROM schedules s JOIN workflows w ON w.id = s.workflow_id"
)
_ACTIVE = f"j.status IN {sql_list(J.PENDING, J.RUNNING)}"
EDITABLE = (
    "name",
    "cron",
    "interval_seconds",
    "timezone",
    "input_payload",
    "enabled",
    "overlap",
    "catchup",
    "catchup_max",
    "jitter_seconds",
    "next_due_at",
    "next_fire_at",
)


def db_now(conn: psycopg.Connection[Any]) -> datetime:
    row = conn.execute("SELECT now() AS now").fetchone()
    assert row is not None
    return row["now"]  # type: ignore[no-any-return]


def insert_schedule(conn: psycopg.Connection[Any], values: dict[str, Any]) -> uuid.UUID:
    columns = ["id", "workspace_id", "workflow_id", "anchor_at", *EDITABLE]
    row = conn.execute(
        f"INSERT INTO schedules ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) RETURNING id",
        [_param(values[c]) for c in columns],
    ).fetchone()
    assert row is not None
    return row["id"]  # type: ignore[no-any-return]


def get_schedule(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    schedule_id: uuid.UUID,
    lock: bool = False,
) -> ScheduleRow:
    row = (
        conn.cursor(row_factory=class_row(ScheduleRow))
        .execute(
            f"{_SELECT} WHERE s.id = %s AND s.workspace_id = %s{' FOR UPDATE OF s' if lock else ''}",
            (schedule_id, workspace_id),
        )
        .fetchone()
    )
    if row is None:
        raise NotFound(f"schedule {schedule_id} not found")
    return row


def list_schedules(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, workflow_id: uuid.UUID | None
) -> list[ScheduleRow]:
    return (
        conn.cursor(row_factory=class_row(ScheduleRow))
        .execute(
            f"{_SELECT} WHERE s.workspace_id = %s AND (%s::uuid IS NULL OR s.workflow_id = %s)"
            " ORDER BY w.name, s.name",
            (workspace_id, workflow_id, workflow_id),
        )
        .fetchall()
    )


def name_taken(
    conn: psycopg.Connection[Any], workflow_id: uuid.UUID, name: str, other_than: uuid.UUID | None
) -> bool:
    row = conn.execute(
        "SELECT 1 FROM schedules WHERE workflow_id = %s AND name = %s AND id IS DISTINCT FROM %s",
        (workflow_id, name, other_than),
    ).fetchone()
    return row is not None


def update_schedule(
    conn: psycopg.Connection[Any], schedule_id: uuid.UUID, values: dict[str, Any]
) -> None:
    columns = [c for c in EDITABLE if c in values]
    if not columns:
        return
    assignments = ", ".join(f"{c} = %s" for c in columns)
    conn.execute(
        f"UPDATE schedules SET {assignments}, updated_at = now() WHERE id = %s",
        [*(_param(values[c]) for c in columns), schedule_id],
    )


def delete_schedule(conn: psycopg.Connection[Any], schedule_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM schedules WHERE id = %s", (schedule_id,))


# --- the scheduler's side -----------------------------------------------------------------


def due_schedule_ids(conn: psycopg.Connection[Any], limit: int) -> list[uuid.UUID]:
    """Schedules to look at: due now, or holding a queued fire."""
    rows = conn.execute(
        """
        SELECT id FROM schedules WHERE enabled AND next_fire_at <= now()
        UNION
        SELECT f.schedule_id FROM schedule_fires f WHERE f.status = 'queued'
        LIMIT %s
        """,
        (limit,),
    ).fetchall()
    return [r["id"] for r in rows]


def claim(conn: psycopg.Connection[Any], schedule_id: uuid.UUID) -> ScheduleRow | None:
    """Lock a schedule for this transaction; None when another scheduler holds it."""
    return (
        conn.cursor(row_factory=class_row(ScheduleRow))
        .execute(f"{_SELECT} WHERE s.id = %s FOR UPDATE OF s SKIP LOCKED", (schedule_id,))
        .fetchone()
    )


def active_jobs(conn: psycopg.Connection[Any], schedule_id: uuid.UUID) -> list[uuid.UUID]:
    """Jobs this schedule started that have not ended."""
    rows = conn.execute(
        f"SELECT j.id FROM schedule_fires f JOIN jobs j ON j.id = f.job_id"
        f" WHERE f.schedule_id = %s AND {_ACTIVE} ORDER BY j.created_at",
        (schedule_id,),
    ).fetchall()
    return [r["id"] for r in rows]


def insert_fire(
    conn: psycopg.Connection[Any],
    schedule: ScheduleRow,
    due_at: datetime,
    status: FireStatus,
    reason: str | None = None,
) -> uuid.UUID | None:
    """The fire of a due time; None when that due time already fired (another scheduler)."""
    row = conn.execute(
        """
        INSERT INTO schedule_fires (id, schedule_id, workspace_id, due_at, status, reason)
        VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id
        """,
        (uuid.uuid4(), schedule.id, schedule.workspace_id, due_at, status.value, reason),
    ).fetchone()
    return None if row is None else row["id"]


def queued_fire(conn: psycopg.Connection[Any], schedule_id: uuid.UUID) -> FireRow | None:
    return (
        conn.cursor(row_factory=class_row(FireRow))
        .execute(
            "SELECT id, schedule_id, due_at, status, job_id, NULL::text AS job_status, reason,"
            " created_at FROM schedule_fires WHERE schedule_id = %s AND status = 'queued'",
            (schedule_id,),
        )
        .fetchone()
    )


def settle_fire(
    conn: psycopg.Connection[Any],
    fire_id: uuid.UUID,
    status: FireStatus,
    job_id: uuid.UUID | None,
    reason: str | None,
) -> None:
    conn.execute(
        "UPDATE schedule_fires SET status = %s, job_id = %s, reason = %s, updated_at = now() WHERE id = %s",
        (status.value, job_id, reason, fire_id),
    )


def advance(
    conn: psycopg.Connection[Any],
    schedule_id: uuid.UUID,
    due: datetime,
    fire: datetime,
    fired: bool,
) -> None:
    conn.execute(
        """
        UPDATE schedules SET next_due_at = %s, next_fire_at = %s,
               last_fired_at = CASE WHEN %s THEN now() ELSE last_fired_at END, updated_at = now()
        WHERE id = %s
        """,
        (due, fire, fired, schedule_id),
    )


def list_fires(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, schedule_id: uuid.UUID, limit: int
) -> list[FireRow]:
    return (
        conn.cursor(row_factory=class_row(FireRow))
        .execute(
            """
            SELECT f.id, f.schedule_id, f.due_at, f.status, f.job_id, j.status AS job_status,
                   f.reason, f.created_at
            FROM schedule_fires f LEFT JOIN jobs j ON j.id = f.job_id
            WHERE f.schedule_id = %s AND f.workspace_id = %s
            ORDER BY f.due_at DESC LIMIT %s
            """,
            (schedule_id, workspace_id, limit),
        )
        .fetchall()
    )


def _param(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict) else value
