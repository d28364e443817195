"""The SQL of continuous workflows: their rows (scoped to a workspace) and the scheduler's
claim of the ones to check."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from backend.continuous.rows import ContinuousRow
from backend.errors import NotFound
from backend.jobs.states import J, sql_list

_SELECT = f"""
    SELECT c.*, w.name AS workflow_name,
           coalesce(j.status IN {sql_list(J.PENDING, J.RUNNING)}, false) AS last_job_active
    FROM continuous_workflows c JOIN workflows w ON w.id = c.workflow_id
    LEFT JOIN jobs j ON j.id = c.last_job_id
"""


def insert(conn: psycopg.Connection[Any], values: dict[str, Any]) -> uuid.UUID:
    row = conn.execute(
        """
        INSERT INTO continuous_workflows (id, workspace_id, workflow_id, expected_work, channel,
                                          check_interval_seconds, input_payload, enabled, woken)
        VALUES (%(id)s, %(workspace_id)s, %(workflow_id)s, %(expected_work)s, %(channel)s,
                %(check_interval_seconds)s, %(input_payload)s, %(enabled)s, false)
        RETURNING id
        """,
        {**values, "input_payload": Jsonb(values["input_payload"])},
    ).fetchone()
    assert row is not None
    return row["id"]  # type: ignore[no-any-return]


def exists_for(conn: psycopg.Connection[Any], workflow_id: uuid.UUID) -> bool:
    row = conn.execute(
        "SELECT 1 FROM continuous_workflows WHERE workflow_id = %s", (workflow_id,)
    ).fetchone()
    return row is not None


def get(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ident: uuid.UUID) -> ContinuousRow:
    row = (
        conn.cursor(row_factory=class_row(ContinuousRow))
        .execute(f"{_SELECT} WHERE c.id = %s AND c.workspace_id = %s", (ident, workspace_id))
        .fetchone()
    )
    if row is None:
        raise NotFound(f"continuous workflow {ident} not found")
    return row


def list_all(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> list[ContinuousRow]:
    return (
        conn.cursor(row_factory=class_row(ContinuousRow))
        .execute(f"{_SELECT} WHERE c.workspace_id = %s ORDER BY w.name", (workspace_id,))
        .fetchall()
    )


def set_enabled(conn: psycopg.Connection[Any], ident: uuid.UUID, enabled: bool) -> None:
    conn.execute(
        "UPDATE continuous_workflows SET enabled = %s, updated_at = now() WHERE id = %s",
        (enabled, ident),
    )


def delete(conn: psycopg.Connection[Any], ident: uuid.UUID) -> None:
    conn.execute("DELETE FROM continuous_workflows WHERE id = %s", (ident,))


# --- the scheduler's side -----------------------------------------------------------------


def channels(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute(
        "SELECT DISTINCT channel FROM continuous_workflows WHERE enabled AND channel IS NOT NULL"
    ).fetchall()
    return {r["channel"] for r in rows}


def due_ids(conn: psycopg.Connection[Any], woken: list[str]) -> list[uuid.UUID]:
    """To check now: notified on their channel, their interval elapsed, or woken while their
    job ran and that job has ended."""
    rows = conn.execute(
        f"""
        SELECT c.id FROM continuous_workflows c LEFT JOIN jobs j ON j.id = c.last_job_id
        WHERE c.enabled AND (
            c.channel = ANY(%s)
            OR c.last_checked_at IS NULL
            OR c.last_checked_at + make_interval(secs => c.check_interval_seconds) <= now()
            OR (c.woken AND coalesce(j.status NOT IN {sql_list(J.PENDING, J.RUNNING)}, true)))
        """,
        (woken,),
    ).fetchall()
    return [r["id"] for r in rows]


def claim(conn: psycopg.Connection[Any], ident: uuid.UUID) -> ContinuousRow | None:
    return (
        conn.cursor(row_factory=class_row(ContinuousRow))
        .execute(f"{_SELECT} WHERE c.id = %s FOR UPDATE OF c SKIP LOCKED", (ident,))
        .fetchone()
    )


def record_check(
    conn: psycopg.Connection[Any],
    ident: uuid.UUID,
    result: dict[str, Any] | None,
    job_id: uuid.UUID | None,
    woken: bool,
) -> None:
    conn.execute(
        """
        UPDATE continuous_workflows SET last_checked_at = now(), woken = %s,
               last_result = coalesce(%s, last_result), last_job_id = coalesce(%s, last_job_id),
               updated_at = now()
        WHERE id = %s
        """,
        (woken, Jsonb(result) if result is not None else None, job_id, ident),
    )
