"""Read queries of the workflows API, each scoped to one workspace."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from backend.errors import NotFound
from backend.jobs.listing import count_by_status
from backend.jobs.states import J, S, sql_list, sql_literal
from backend.workflows.service import find_workflow

_SUMMARY = """
    w.id, w.workspace_id, w.name, w.description, w.latest_version, w.execution_count, w.created_at, w.updated_at,
    jsonb_array_length(v.definition -> 'steps') AS step_count,
    (SELECT coalesce(jsonb_object_agg(c.status, c.n), '{}'::jsonb) FROM job_counts c
     WHERE c.workspace_id = w.workspace_id AND c.workflow_id = w.id) AS job_counts
"""
_LATEST = "JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.latest_version"


def list_workflows(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, q: str | None, skip: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    pattern = (
        None
        if q is None
        else "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    )
    params = {"ws": workspace_id, "p": pattern, "skip": skip, "limit": limit}
    where = "w.workspace_id = %(ws)s AND (%(p)s::text IS NULL OR w.name ILIKE %(p)s)"
    rows = conn.execute(
        f"SELECT {_SUMMARY} FROM workflows w {_LATEST} WHERE {where} ORDER BY w.name OFFSET %(skip)s LIMIT %(limit)s",
        params,
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM workflows w WHERE {where}", params).fetchone()
    return [_counted(r) for r in rows], int(total["n"]) if total else 0


def _counted(row: dict[str, Any]) -> dict[str, Any]:
    row["job_counts"] = {k: max(int(v), 0) for k, v in (row["job_counts"] or {}).items()}
    return row


def get_workflow(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ref: str, version: int | None = None
) -> dict[str, Any]:
    """A workflow by id or name with one version's definition (default: the latest)."""
    workflow = find_workflow(conn, workspace_id, ref)
    row = conn.execute(
        f"""
        SELECT {_SUMMARY.replace("v.definition", "lv.definition")},
               v.version, v.id AS version_id, v.definition, v.input_schema, v.concurrency
        FROM workflows w
        JOIN workflow_versions lv ON lv.workflow_id = w.id AND lv.version = w.latest_version
        JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = %s
        WHERE w.id = %s
        """,
        (version or workflow["latest_version"], workflow["id"]),
    ).fetchone()
    if row is None:
        raise NotFound(
            f"workflow {workflow['name']} has no version {version}",
            {"latest_version": workflow["latest_version"]},
        )
    row["versions"] = conn.execute(
        "SELECT id, version, definition_hash, created_at FROM workflow_versions WHERE workflow_id = %s ORDER BY version",
        (workflow["id"],),
    ).fetchall()
    return _counted(row)


def metrics(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ref: str, window: int
) -> dict[str, Any]:
    """Exact counts from the counters; durations and costs over the newest `window` executions."""
    workflow = find_workflow(conn, workspace_id, ref)
    counts = count_by_status(conn, workspace_id, workflow["id"])
    stats = conn.execute(
        f"""
        WITH recent AS (
            SELECT status, total_cost, EXTRACT(EPOCH FROM completed_at - started_at)::float AS d
            FROM jobs WHERE workflow_id = %s ORDER BY created_at DESC, id DESC LIMIT %s
        )
        SELECT count(*) AS n, coalesce(sum(d), 0) AS total, coalesce(avg(d), 0) AS avg, min(d) AS min, max(d) AS max,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY d) AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY d) AS p95,
               coalesce(sum(total_cost), 0)::float AS cost, coalesce(avg(total_cost), 0)::float AS avg_cost
        FROM recent WHERE status IN {sql_list(J.COMPLETED, J.FAILED)} AND d IS NOT NULL
        """,
        (workflow["id"], window),
    ).fetchone()
    assert stats is not None
    ok, failed = counts[J.COMPLETED], counts[J.FAILED]
    return {
        "total_duration_seconds": stats["total"],
        "success_rate": 100.0 * ok / (ok + failed) if ok + failed else 0.0,
        "total_executions": sum(counts.values()),
        "successful_executions": ok,
        "failed_executions": failed,
        "cancelled_executions": counts[J.CANCELLED],
        "active_executions": counts[J.PENDING] + counts[J.RUNNING],
        "average_duration_seconds": stats["avg"],
        "min_duration_seconds": stats["min"],
        "max_duration_seconds": stats["max"],
        "p50_duration_seconds": stats["p50"],
        "p95_duration_seconds": stats["p95"],
        "total_cost_usd": stats["cost"],
        "average_cost_usd": stats["avg_cost"],
        "window": window,
        "sampled_executions": stats["n"],
    }


_FAILED = f"j.status = {sql_literal(J.FAILED)}"
_TIMED_OUT = (
    "EXISTS (SELECT 1 FROM job_steps s"
    f" WHERE s.job_id = j.id AND s.status = {sql_literal(S.TIMED_OUT)})"
)
_STATUS_WHERE = {
    "timeout": f"{_FAILED} AND {_TIMED_OUT}",
    J.FAILED: f"{_FAILED} AND NOT {_TIMED_OUT}",
}


def executions(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    ref: str,
    status: str | None,
    skip: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """Seed 002's execution list: newest first; a job that failed on a step timeout is `timeout`."""
    workflow = find_workflow(conn, workspace_id, ref)
    where = "j.workflow_id = %(wf)s"
    if status is not None:
        where += " AND " + _STATUS_WHERE.get(status, "j.status = %(st)s")
    params = {"wf": workflow["id"], "st": status, "skip": skip, "limit": limit}
    rows = conn.execute(
        f"""
        WITH page AS (
            SELECT j.id, j.created_at FROM jobs j WHERE {where}
            ORDER BY j.created_at DESC, j.id DESC OFFSET %(skip)s LIMIT %(limit)s
        )
        SELECT j.id, j.workflow_id, j.execution_number,
               CASE WHEN {_FAILED} AND {_TIMED_OUT} THEN 'timeout' ELSE j.status END AS status,
               j.started_at, j.completed_at,
               EXTRACT(EPOCH FROM coalesce(j.completed_at, now()) - j.started_at)::float AS duration,
               j.input_payload AS input_variables, j.output_payload AS results, j.error_message,
               j.created_at, j.updated_at
        FROM page p JOIN jobs j ON j.id = p.id
        ORDER BY p.created_at DESC, p.id DESC
        """,
        params,
    ).fetchall()
    if status in _STATUS_WHERE:
        total_row = conn.execute(
            f"SELECT count(*) AS n FROM jobs j WHERE {where}", params
        ).fetchone()
        total = int(total_row["n"]) if total_row else 0
    else:
        counts = count_by_status(conn, workspace_id, workflow["id"])
        total = counts.get(status, 0) if status else sum(counts.values())
    return rows, total
