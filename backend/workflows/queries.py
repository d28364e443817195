"""The SQL of the workflows domain: workflows and their versions (find, store, lock), and the
API's reads (list, detail, metrics, executions), each scoped to one workspace. Rows are
frozen types (backend/workflows/rows.py)."""

from __future__ import annotations

import difflib
import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Json, Jsonb

from backend.errors import NotFound
from backend.jobs.listing import count_by_status
from backend.jobs.states import J, S, sql_list, sql_literal
from backend.jobs.statuses import RATE_FINISHED, success_rate, workflow_step_id
from backend.workflows.definition import StepDefinition, WorkflowDefinition
from backend.workflows.rows import (
    ExecutionRow,
    VersionInfoRow,
    VersionRow,
    WorkflowDetailRow,
    WorkflowMetricsRow,
    WorkflowRow,
    WorkflowSummaryRow,
)

# execution_count: the jobs stored now (the counters the metrics read), not the numbers handed
# out (`workflows.execution_count`, which pruned and deleted jobs do not lower)
_SUMMARY = """
    w.id, w.workspace_id, w.name, w.description, w.project_id, w.latest_version, w.created_at,
    w.updated_at,
    (SELECT coalesce(sum(greatest(c.n, 0)), 0)::int FROM job_counts c
     WHERE c.workspace_id = w.workspace_id AND c.workflow_id = w.id) AS execution_count,
    jsonb_array_length(v.definition -> 'steps') AS step_count,
    (SELECT coalesce(jsonb_object_agg(c.status, c.n), '{}'::jsonb) FROM job_counts c
     WHERE c.workspace_id = w.workspace_id AND c.workflow_id = w.id) AS job_counts
"""
_LATEST = "JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.latest_version"


# --- workflows and versions ---------------------------------------------------------------


def find_workflow(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ref: str | uuid.UUID
) -> WorkflowRow:
    """A workflow of the workspace by id or by name; NotFound names close matches."""
    workflow_id = _as_uuid(ref)
    cursor = conn.cursor(row_factory=class_row(WorkflowRow))
    if workflow_id is not None:
        row = cursor.execute(
            "SELECT * FROM workflows WHERE id = %s AND workspace_id = %s",
            (workflow_id, workspace_id),
        ).fetchone()
    else:
        row = cursor.execute(
            "SELECT * FROM workflows WHERE name = %s AND workspace_id = %s",
            (str(ref), workspace_id),
        ).fetchone()
    if row is None:
        raise NotFound(
            f"workflow {ref!s} not found",
            {"suggestions": _close_names(conn, workspace_id, str(ref))},
        )
    return row


def find_step_key(conn: psycopg.Connection[Any], workflow: WorkflowRow, ref: str) -> str:
    """A step of the workflow (any version) by its id (`workflow_step_id`) or its key."""
    keys = [
        r["key"]
        for r in conn.execute(
            "SELECT DISTINCT jsonb_array_elements(definition -> 'steps') ->> 'key' AS key"
            " FROM workflow_versions WHERE workflow_id = %s",
            (workflow.id,),
        )
    ]
    by_id = {str(workflow_step_id(workflow.id, key)): key for key in keys}
    key = by_id.get(ref.lower(), ref if ref in keys else None)
    if key is None:
        raise NotFound(f"workflow {workflow.name} has no step {ref}", {"steps": sorted(keys)})
    return key


def metric_labels(conn: psycopg.Connection[Any], workflow_id: uuid.UUID) -> tuple[str, str] | None:
    """(workspace slug, workflow name) of a workflow: the labels of its step metrics."""
    row = conn.execute(
        "SELECT s.slug, w.name FROM workflows w JOIN workspaces s ON s.id = w.workspace_id"
        " WHERE w.id = %s",
        (workflow_id,),
    ).fetchone()
    return None if row is None else (row["slug"], row["name"])


def _close_names(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, name: str) -> list[str]:
    names = [
        r["name"]
        for r in conn.execute("SELECT name FROM workflows WHERE workspace_id = %s", (workspace_id,))
    ]
    return difflib.get_close_matches(name, names, n=3, cutoff=0.5)


def _as_uuid(ref: str | uuid.UUID) -> uuid.UUID | None:
    if isinstance(ref, uuid.UUID):
        return ref
    try:
        return uuid.UUID(str(ref))
    except ValueError:
        return None


def version(
    conn: psycopg.Connection[Any], workflow_id: uuid.UUID, number: int
) -> VersionRow | None:
    return (
        conn.cursor(row_factory=class_row(VersionRow))
        .execute(
            "SELECT * FROM workflow_versions WHERE workflow_id = %s AND version = %s",
            (workflow_id, number),
        )
        .fetchone()
    )


def latest_version(conn: psycopg.Connection[Any], workflow: WorkflowRow) -> VersionRow:
    row = version(conn, workflow.id, workflow.latest_version)
    assert row is not None, f"workflow {workflow.id} has no version {workflow.latest_version}"
    return row


def version_by_id(conn: psycopg.Connection[Any], version_id: uuid.UUID) -> VersionRow:
    row = (
        conn.cursor(row_factory=class_row(VersionRow))
        .execute("SELECT * FROM workflow_versions WHERE id = %s", (version_id,))
        .fetchone()
    )
    if row is None:
        raise NotFound(f"workflow version {version_id} not found")
    return row


def upsert_workflow(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    name: str,
    description: str,
    project_id: str | None = None,
) -> WorkflowRow:
    """The workspace's workflow of this name, created (with no version yet) when new;
    `project_id` (when given) becomes its project tag."""
    row = (
        conn.cursor(row_factory=class_row(WorkflowRow))
        .execute(
            """
            INSERT INTO workflows
                (id, workspace_id, name, description, project_id, latest_version, execution_count)
            VALUES (%(id)s, %(ws)s, %(name)s, %(description)s, coalesce(%(project)s, 'default'), 0, 0)
            ON CONFLICT (workspace_id, name) DO UPDATE
                SET project_id = coalesce(%(project)s, workflows.project_id)
            RETURNING *
            """,
            {
                "id": uuid.uuid4(),
                "ws": workspace_id,
                "name": name,
                "description": description,
                "project": project_id,
            },
        )
        .fetchone()
    )
    assert row is not None
    return row


def add_version(
    conn: psycopg.Connection[Any],
    workflow_id: uuid.UUID,
    number: int,
    definition: WorkflowDefinition,
) -> uuid.UUID:
    """Store the definition as version `number` and make it the latest; returns its id."""
    version_id = uuid.uuid4()
    conn.execute(
        """
        INSERT INTO workflow_versions
            (id, workflow_id, version, definition, input_schema, concurrency, definition_hash,
             document)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            version_id,
            workflow_id,
            number,
            Jsonb(definition.model_dump(mode="json")),
            Json(definition.input_schema),  # `json` columns: the author's key order
            Jsonb(definition.concurrency.model_dump(mode="json")),
            definition.content_hash(),
            Json(definition.model_dump(mode="json")),
        ),
    )
    conn.execute(
        "UPDATE workflows SET latest_version = %s, description = %s, updated_at = now() WHERE id = %s",
        (number, definition.description, workflow_id),
    )
    return version_id


def restore_written_order(
    conn: psycopg.Connection[Any], version_id: uuid.UUID, definition: WorkflowDefinition
) -> None:
    """Store a version's input schema and document again in the author's key order: for
    versions stored before they were `json` (jsonb reorders keys). The content is the same
    (the caller checked the definition's hash), so the version does not change, only its
    order."""
    conn.execute(
        "UPDATE workflow_versions SET input_schema = %s, document = %s WHERE id = %s",
        (Json(definition.input_schema), Json(definition.model_dump(mode="json")), version_id),
    )


def lock_workflow(conn: psycopg.Connection[Any], workflow_id: uuid.UUID) -> None:
    """Take the workflow's row lock: creates of one workflow are then serial."""
    conn.execute("SELECT 1 FROM workflows WHERE id = %s FOR NO KEY UPDATE", (workflow_id,))


def next_execution_number(conn: psycopg.Connection[Any], workflow_id: uuid.UUID) -> int:
    row = conn.execute(
        "UPDATE workflows SET execution_count = execution_count + 1 WHERE id = %s"
        " RETURNING execution_count",
        (workflow_id,),
    ).fetchone()
    assert row is not None
    return int(row["execution_count"])


# --- the API's reads ----------------------------------------------------------------------


def list_workflows(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, q: str | None, skip: int, limit: int
) -> tuple[list[WorkflowSummaryRow], int]:
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
    return [WorkflowSummaryRow(**_counted(r)) for r in rows], int(total["n"]) if total else 0


def _counted(row: dict[str, Any]) -> dict[str, Any]:
    row["job_counts"] = {k: max(int(v), 0) for k, v in (row["job_counts"] or {}).items()}
    return row


def get_workflow(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ref: str, number: int | None = None
) -> WorkflowDetailRow:
    """A workflow by id or name with one version's definition (default: the latest)."""
    workflow = find_workflow(conn, workspace_id, ref)
    row = conn.execute(
        f"""
        SELECT {_SUMMARY.replace("v.definition", "lv.definition")},
               v.version, v.id AS version_id, v.definition, v.input_schema, v.concurrency,
               v.document
        FROM workflows w
        JOIN workflow_versions lv ON lv.workflow_id = w.id AND lv.version = w.latest_version
        JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = %s
        WHERE w.id = %s
        """,
        (number or workflow.latest_version, workflow.id),
    ).fetchone()
    if row is None:
        raise NotFound(
            f"workflow {workflow.name} has no version {number}",
            {"latest_version": workflow.latest_version},
        )
    versions = (
        conn.cursor(row_factory=class_row(VersionInfoRow))
        .execute(
            "SELECT id, version, definition_hash, created_at FROM workflow_versions"
            " WHERE workflow_id = %s ORDER BY version",
            (workflow.id,),
        )
        .fetchall()
    )
    # the definition column is jsonb (its keys reordered): show the document as written
    document = row.pop("document")
    row["definition"] = document or {**row["definition"], "input_schema": row["input_schema"]}
    return WorkflowDetailRow(**_counted(row), versions=tuple(versions))


def metrics(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ref: str, window: int
) -> WorkflowMetricsRow:
    """Exact counts from the counters; durations and costs over the newest `window` executions."""
    workflow = find_workflow(conn, workspace_id, ref)
    counts = count_by_status(conn, workspace_id, workflow.id)
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
        (workflow.id, window),
    ).fetchone()
    assert stats is not None
    ok, failed = counts[J.COMPLETED], counts[J.FAILED]
    return WorkflowMetricsRow(
        total_duration_seconds=stats["total"],
        success_rate=success_rate(counts) or 0.0,
        total_executions=sum(counts.values()),
        finished_executions=sum(counts[s] for s in RATE_FINISHED),
        successful_executions=ok,
        failed_executions=failed,
        cancelled_executions=counts[J.CANCELLED],
        active_executions=counts[J.PENDING] + counts[J.RUNNING],
        average_duration_seconds=stats["avg"],
        min_duration_seconds=stats["min"],
        max_duration_seconds=stats["max"],
        p50_duration_seconds=stats["p50"],
        p95_duration_seconds=stats["p95"],
        total_cost_usd=stats["cost"],
        average_cost_usd=stats["avg_cost"],
        window=window,
        sampled_executions=stats["n"],
    )


_FAILED = f"j.status = {sql_literal(J.FAILED)}"
_TIMED_OUT = (
    "EXISTS (SELECT 1 FROM job_steps s"
    f" WHERE s.job_id = j.id AND s.status = {sql_literal(S.TIMED_OUT)})"
)
_STATUS_WHERE = {
    "timeout": f"{_FAILED} AND {_TIMED_OUT}",
    J.FAILED: f"{_FAILED} AND NOT {_TIMED_OUT}",
}


_EXECUTION = f"""
    j.id, j.workflow_id, j.execution_number,
    CASE WHEN {_FAILED} AND {_TIMED_OUT} THEN 'timeout' ELSE j.status END AS status,
    j.started_at, j.completed_at,
    EXTRACT(EPOCH FROM coalesce(j.completed_at, now()) - j.started_at)::float AS duration,
    j.input_payload AS input_variables, j.output_payload AS results, j.error_message,
    j.created_at, j.updated_at
"""


def execution(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID
) -> ExecutionRow:
    """One job as an execution (NotFound for another workspace's job)."""
    row = (
        conn.cursor(row_factory=class_row(ExecutionRow))
        .execute(
            f"SELECT {_EXECUTION} FROM jobs j WHERE j.id = %s AND j.workspace_id = %s",
            (job_id, workspace_id),
        )
        .fetchone()
    )
    if row is None:
        raise NotFound(f"execution {job_id} not found")
    return row


def executions(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    ref: str,
    status: str | None,
    skip: int,
    limit: int,
) -> tuple[list[ExecutionRow], int]:
    """The workflow's jobs as executions, newest first; a job that failed on a step timeout
    is `timeout`."""
    workflow = find_workflow(conn, workspace_id, ref)
    where = "j.workflow_id = %(wf)s"
    if status is not None:
        where += " AND " + _STATUS_WHERE.get(status, "j.status = %(st)s")
    params = {"wf": workflow.id, "st": status, "skip": skip, "limit": limit}
    rows = (
        conn.cursor(row_factory=class_row(ExecutionRow))
        .execute(
            f"""
            WITH page AS (
                SELECT j.id, j.created_at FROM jobs j WHERE {where}
                ORDER BY j.created_at DESC, j.id DESC OFFSET %(skip)s LIMIT %(limit)s
            )
            SELECT {_EXECUTION} FROM page p JOIN jobs j ON j.id = p.id
            ORDER BY p.created_at DESC, p.id DESC
            """,
            params,
        )
        .fetchall()
    )
    if status in _STATUS_WHERE:
        total_row = conn.execute(
            f"SELECT count(*) AS n FROM jobs j WHERE {where}", params
        ).fetchone()
        total = int(total_row["n"]) if total_row else 0
    else:
        counts = count_by_status(conn, workspace_id, workflow.id)
        total = counts.get(status, 0) if status else sum(counts.values())
    return rows, total


def step_definition(
    conn: psycopg.Connection[Any], version_id: uuid.UUID, step_key: str
) -> StepDefinition:
    """A step's definition in a workflow version (a job's own version)."""
    row = conn.execute(
        "SELECT definition FROM workflow_versions WHERE id = %s", (version_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"workflow version {version_id} not found")
    return WorkflowDefinition.model_validate(row["definition"]).step(step_key)
