"""SQL of the runs domain: the run history (jobs with their audit fields, newest first) and
the figures the pre-flight report reads for one workflow."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row

from backend.errors import NotFound
from backend.jobs.states import A, J, S, sql_list, sql_literal
from backend.runs.rows import RunFilter, RunRow

_RUN_COLUMNS = f"""
    j.id, j.workflow_id, w.name AS workflow_name, j.execution_number, j.run_mode AS mode,
    j.item_id, j.requested_by, j.status, j.error_message, j.created_at, j.started_at,
    j.completed_at,
    EXTRACT(EPOCH FROM coalesce(j.completed_at, now()) - j.started_at)::float AS duration_seconds,
    j.steps_done AS steps_completed,
    (SELECT count(*) FROM job_steps s WHERE s.job_id = j.id
       AND s.status IN {sql_list(S.FAILED, S.TIMED_OUT)})::int AS steps_failed,
    j.step_count, j.state_before, j.expected_work, j.state_after, j.delta,
    coalesce(j.run_segments, '[]'::jsonb) AS segments
"""
_ROW = class_row(RunRow)


def list_runs(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    where: RunFilter,
    skip: int,
    limit: int,
) -> list[RunRow]:
    """A page of runs, newest first; one more row than `limit` tells there is another page."""
    return (
        conn.cursor(row_factory=_ROW)
        .execute(
            f"""
            SELECT {_RUN_COLUMNS} FROM jobs j JOIN workflows w ON w.id = j.workflow_id
            WHERE j.workspace_id = %(ws)s
              AND (%(wf)s::uuid IS NULL OR j.workflow_id = %(wf)s)
              AND (cardinality(%(statuses)s::text[]) = 0 OR j.status = ANY(%(statuses)s))
              AND (%(who)s::text IS NULL OR strpos(lower(j.requested_by), lower(%(who)s)) > 0)
              AND (%(mode)s::text IS NULL OR j.run_mode = %(mode)s)
              AND (%(since)s::timestamptz IS NULL OR j.created_at >= %(since)s)
              AND (%(until)s::timestamptz IS NULL OR j.created_at < %(until)s)
              AND (%(number)s::int IS NULL OR j.execution_number = %(number)s)
            ORDER BY j.created_at DESC, j.id DESC
            LIMIT %(limit)s OFFSET %(skip)s
            """,
            {
                "ws": workspace_id,
                "wf": where.workflow_id,
                "statuses": list(where.statuses),
                "who": where.requested_by,
                "mode": where.mode,
                "since": where.since,
                "until": where.until,
                "number": where.execution_number,
                "limit": limit + 1,
                "skip": skip,
            },
        )
        .fetchall()
    )


def get_run(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID) -> RunRow:
    row = (
        conn.cursor(row_factory=_ROW)
        .execute(
            f"SELECT {_RUN_COLUMNS} FROM jobs j JOIN workflows w ON w.id = j.workflow_id"
            " WHERE j.id = %s AND j.workspace_id = %s",
            (job_id, workspace_id),
        )
        .fetchone()
    )
    if row is None:
        raise NotFound(f"job {job_id} not found")
    return row


def run_issues(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> list[dict[str, Any]]:
    """The errors of a run: each failed, timed-out or lost attempt, oldest first."""
    return conn.execute(
        f"""
        SELECT step_key, attempt_number, status, error_type, error_message, finished_at
        FROM step_attempts WHERE job_id = %s AND status IN {sql_list(A.FAILED, A.TIMED_OUT, A.LOST)}
        ORDER BY finished_at NULLS LAST, attempt_number LIMIT 100
        """,
        (job_id,),
    ).fetchall()


def attempt_counts(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> dict[str, int]:
    """How many attempts the run made, per status."""
    rows = conn.execute(
        "SELECT status, count(*)::int AS n FROM step_attempts WHERE job_id = %s GROUP BY status",
        (job_id,),
    ).fetchall()
    return {r["status"]: r["n"] for r in rows}


# --- pre-flight figures of one workflow ------------------------------------------------------


def expired_attempts(conn: psycopg.Connection[Any], workflow_id: uuid.UUID) -> list[dict[str, Any]]:
    """The workflow's running attempts whose lease has expired (the database clock's view)."""
    return conn.execute(
        f"""
        SELECT a.id::text, a.job_id::text, a.step_key, a.worker_name,
               EXTRACT(EPOCH FROM now() - a.lease_expires_at)::float AS expired_for
        FROM step_attempts a JOIN jobs j ON j.id = a.job_id
        WHERE a.status = {sql_literal(A.RUNNING)} AND a.lease_expires_at < now()
          AND j.workflow_id = %s
        ORDER BY a.lease_expires_at LIMIT 20
        """,
        (workflow_id,),
    ).fetchall()


def waiting_jobs(
    conn: psycopg.Connection[Any], workflow_id: uuid.UUID, older_than: float
) -> list[dict[str, Any]]:
    """The workflow's jobs pending for longer than `older_than` seconds."""
    return conn.execute(
        f"""
        SELECT id::text, execution_number, EXTRACT(EPOCH FROM now() - created_at)::float AS waiting_for
        FROM jobs WHERE workflow_id = %s AND status = {sql_literal(J.PENDING)}
          AND created_at < now() - make_interval(secs => %s)
        ORDER BY created_at LIMIT 20
        """,
        (workflow_id, older_than),
    ).fetchall()


def failures_by_type(
    conn: psycopg.Connection[Any], workflow_id: uuid.UUID, hours: int = 24
) -> dict[str, int]:
    rows = conn.execute(
        f"""
        SELECT coalesce(a.error_type, 'unknown') AS error_type, count(*)::int AS n
        FROM step_attempts a JOIN jobs j ON j.id = a.job_id
        WHERE a.status IN {sql_list(A.FAILED, A.TIMED_OUT, A.LOST)} AND j.workflow_id = %s
          AND a.finished_at > now() - make_interval(hours => %s)
        GROUP BY 1 ORDER BY n DESC
        """,
        (workflow_id, hours),
    ).fetchall()
    return {r["error_type"]: r["n"] for r in rows}
