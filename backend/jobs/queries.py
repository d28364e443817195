"""Read queries of the jobs API, each scoped to one workspace (another workspace's job is
NotFound). List pages follow the composite indexes of `jobs` (see models.py): one index range
per (status, workflow) combination, merged by `UNION ALL` in (created_at, id) order, so a page
never sorts the table; deep pages use a keyset cursor; totals come from `job_counts`."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from backend.errors import InvalidInput, NotFound
from backend.jobs.states import JobStatus

COUNT_CAP = 10_000  # totals that need a scan stop counting here
MAX_BRANCHES = 24
LEVELS = ("debug", "info", "warning", "error")

_ITEM = """
    j.id, j.workspace_id, j.workflow_id, w.name AS workflow_name, v.version AS workflow_version,
    j.execution_number, j.status, left(j.error_message, 1000) AS error_message, j.progress,
    j.current_step, j.step_count, j.steps_done, j.total_cost, j.rerun_of, j.idempotency_key,
    j.created_at, j.started_at, j.completed_at, j.updated_at,
    EXTRACT(EPOCH FROM coalesce(j.completed_at, now()) - j.started_at)::float AS duration_seconds
"""
_DETAIL = (
    _ITEM.replace("left(j.error_message, 1000)", "j.error_message")
    + """,
    j.input_payload, j.output_payload, j.state_before, j.state_after, j.delta
"""
)
_JOINS = "JOIN workflows w ON w.id = j.workflow_id JOIN workflow_versions v ON v.id = j.workflow_version_id"


@dataclass(frozen=True)
class JobFilter:
    statuses: tuple[str, ...] = ()
    workflow_id: uuid.UUID | None = None
    q: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    total_exact: bool
    next_cursor: str | None


@dataclass
class _Plan:
    branches: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    named: list[uuid.UUID] | None = None  # workflows whose name matched `q`
    id_branch: str | None = None  # the job id prefix branch of `q`


# --- cursors ------------------------------------------------------------------------------


def encode_cursor(created_at: datetime, job_id: uuid.UUID, descending: bool) -> str:
    raw = json.dumps(
        {"t": created_at.isoformat(), "i": str(job_id), "d": descending}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, descending: bool) -> tuple[datetime, uuid.UUID]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position = datetime.fromisoformat(raw["t"]), uuid.UUID(raw["i"])
        same_order = bool(raw["d"]) == descending
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _bad_cursor(
            "not a cursor of this API: pass a previous page's next_cursor unchanged"
        ) from None
    if position[0].tzinfo is None or not same_order:
        raise _bad_cursor("the cursor belongs to another sort order; start again without it")
    return position


def _bad_cursor(msg: str) -> InvalidInput:
    return InvalidInput(f"invalid cursor: {msg}", [{"loc": ["query", "cursor"], "msg": msg}])


# --- list ---------------------------------------------------------------------------------


def _id_range(q: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """A job id prefix as the range of ids it covers (the primary key serves it)."""
    digits = q.replace("-", "").lower()
    if not re.fullmatch(r"[0-9a-f]{1,32}", digits):
        return None
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


def _matching_workflows(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, q: str
) -> list[uuid.UUID]:
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        "SELECT id FROM workflows WHERE workspace_id = %s AND name ILIKE %s ORDER BY name",
        (workspace_id, pattern),
    )
    return [r["id"] for r in rows]


def _plan(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, f: JobFilter) -> _Plan | None:
    """Index-friendly branches whose union is the filter; None when nothing can match."""
    plan = _Plan(params={"ws": workspace_id})
    common = ["j.workspace_id = %(ws)s"]
    if f.created_after is not None:
        common.append("j.created_at >= %(after)s")
        plan.params["after"] = f.created_after
    if f.created_before is not None:
        common.append("j.created_at < %(before)s")
        plan.params["before"] = f.created_before
    workflows: list[uuid.UUID | None] = [f.workflow_id]
    id_range = None
    if f.q:
        named = _matching_workflows(conn, workspace_id, f.q.strip())
        if f.workflow_id is not None:
            named = [w for w in named if w == f.workflow_id]
        id_range = _id_range(f.q.strip())
        if not named and id_range is None:
            return None
        workflows = list(named)
        plan.params["named"] = plan.named = named
    statuses: list[str | None] = list(f.statuses) or [None]
    if workflows and len(workflows) * len(statuses) <= MAX_BRANCHES:
        for i, wf in enumerate(workflows):
            for k, status in enumerate(statuses):
                conds = list(common)
                if wf is not None:
                    conds.append(f"j.workflow_id = %(w{i})s")
                    plan.params[f"w{i}"] = wf
                if status is not None:
                    conds.append(f"j.status = %(s{k})s")
                    plan.params[f"s{k}"] = status
                plan.branches.append(" AND ".join(conds))
    elif workflows:
        plan.params.update(wfs=workflows, sts=list(f.statuses))
        conds = [*common, "j.workflow_id = ANY(%(wfs)s)"]
        if f.statuses:
            conds.append("j.status = ANY(%(sts)s)")
        plan.branches.append(" AND ".join(conds))
    if id_range is not None:
        plan.params.update(lo=id_range[0], hi=id_range[1], sts=list(f.statuses), wf=f.workflow_id)
        conds = [*common, "j.id BETWEEN %(lo)s AND %(hi)s", "NOT (j.workflow_id = ANY(%(named)s))"]
        if f.statuses:
            conds.append("j.status = ANY(%(sts)s)")
        if f.workflow_id is not None:
            conds.append("j.workflow_id = %(wf)s")
        plan.id_branch = " AND ".join(conds)
        plan.branches.append(plan.id_branch)
    return plan


def list_jobs(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    f: JobFilter,
    *,
    descending: bool = True,
    skip: int = 0,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    plan = _plan(conn, workspace_id, f)
    if plan is None:
        return Page([], 0, True, None)
    order = "DESC" if descending else "ASC"
    keyset = ""
    if cursor is not None:
        plan.params["kt"], plan.params["ki"] = decode_cursor(cursor, descending)
        keyset = f" AND (j.created_at, j.id) {'<' if descending else '>'} (%(kt)s, %(ki)s)"
    plan.params.update(n=skip + limit + 1, skip=skip, take=limit + 1)
    parts = [
        f"(SELECT j.id, j.created_at FROM jobs j WHERE {b}{keyset} "
        f"ORDER BY j.created_at {order}, j.id {order} LIMIT %(n)s)"
        for b in plan.branches
    ]
    rows = conn.execute(
        f"""
        WITH page AS (
            SELECT u.id, u.created_at FROM ({" UNION ALL ".join(parts)}) u
            ORDER BY u.created_at {order}, u.id {order} OFFSET %(skip)s LIMIT %(take)s
        )
        SELECT {_ITEM} FROM page p JOIN jobs j ON j.id = p.id {_JOINS}
        ORDER BY p.created_at {order}, p.id {order}
        """,  # only our own constant fragments are formatted in
        plan.params,
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor(rows[-1]["created_at"], rows[-1]["id"], descending) if more else None
    )
    total, exact = _total(conn, workspace_id, f, plan)
    return Page(rows, total, exact, next_cursor)


def _total(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, f: JobFilter, plan: _Plan
) -> tuple[int, bool]:
    """Exact from the counters when the filter allows (status, workflow, and the workflow
    names `q` matched); the rest (dates, a job id prefix) is counted up to COUNT_CAP."""
    dated = f.created_after is not None or f.created_before is not None
    if dated:
        return _bounded(conn, plan.branches, plan.params)
    workflows = (
        plan.named if plan.named is not None else ([f.workflow_id] if f.workflow_id else None)
    )
    exact = 0
    if workflows is None or workflows:
        row = conn.execute(
            """
            SELECT coalesce(sum(n), 0)::bigint AS n FROM job_counts
            WHERE workspace_id = %s AND (%s::text[] IS NULL OR status = ANY(%s))
              AND (%s::uuid[] IS NULL OR workflow_id = ANY(%s))
            """,
            (workspace_id, list(f.statuses) or None, list(f.statuses), workflows, workflows),
        ).fetchone()
        exact = max(int(row["n"]), 0) if row else 0
    if plan.id_branch is None:
        return exact, True
    extra, complete = _bounded(conn, [plan.id_branch], plan.params)
    return exact + extra, complete


def _bounded(
    conn: psycopg.Connection[Any], branches: list[str], params: dict[str, Any]
) -> tuple[int, bool]:
    counts = " + ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM jobs j WHERE {b} LIMIT {COUNT_CAP + 1}) c{i})"
        for i, b in enumerate(branches)
    )
    row = conn.execute(f"SELECT {counts} AS n", params).fetchone()
    total = int(row["n"]) if row else 0
    return min(total, COUNT_CAP), total <= COUNT_CAP


def count_by_status(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, workflow_id: uuid.UUID | None = None
) -> dict[str, int]:
    rows = conn.execute(
        """
        SELECT status, sum(n)::bigint AS n FROM job_counts
        WHERE workspace_id = %s AND (%s::uuid IS NULL OR workflow_id = %s)
        GROUP BY status
        """,
        (workspace_id, workflow_id, workflow_id),
    ).fetchall()
    counts = {str(s): 0 for s in JobStatus}
    for r in rows:
        counts[r["status"]] = max(int(r["n"]), 0)
    return counts


# --- one job ------------------------------------------------------------------------------


def get_job(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID
) -> dict[str, Any]:
    row = conn.execute(
        f"SELECT {_DETAIL} FROM jobs j {_JOINS} WHERE j.id = %s AND j.workspace_id = %s",
        (job_id, workspace_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"job {job_id} not found")
    return row


def job_head(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID
) -> dict[str, Any]:
    """The few columns most views need, or NotFound."""
    row = conn.execute(
        """
        SELECT j.id, j.status, j.workflow_id, w.name AS workflow_name, j.current_step, j.progress,
               j.error_message, j.started_at, j.completed_at, j.step_count,
               EXTRACT(EPOCH FROM coalesce(j.completed_at, now()) - j.started_at)::float AS duration_seconds
        FROM jobs j JOIN workflows w ON w.id = j.workflow_id
        WHERE j.id = %s AND j.workspace_id = %s
        """,
        (job_id, workspace_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"job {job_id} not found")
    return row


def list_steps(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID
) -> list[dict[str, Any]]:
    rows = conn.execute(
        """
        SELECT id, job_id, step_key AS step_id, step_key, step_index, name, action, status, params,
               depends_on, condition, input_data, output_data, error_message, error_type,
               attempt_count AS attempt_number, max_attempts, progress, cost_usd, next_attempt_at,
               started_at, completed_at,
               coalesce(duration_seconds, EXTRACT(EPOCH FROM now() - started_at)::float) AS duration_seconds
        FROM job_steps WHERE job_id = %s AND workspace_id = %s ORDER BY step_index
        """,
        (job_id, workspace_id),
    ).fetchall()
    if not rows:
        job_head(conn, workspace_id, job_id)  # NotFound, or a job without steps
    return rows


def find_step(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID, step: str
) -> dict[str, Any]:
    row = conn.execute(
        "SELECT id, step_key, name, status FROM job_steps WHERE job_id = %s AND workspace_id = %s AND step_key = %s",
        (job_id, workspace_id, step),
    ).fetchone()
    if row is None:
        job_head(conn, workspace_id, job_id)
        keys = [
            r["step_key"]
            for r in conn.execute(
                "SELECT step_key FROM job_steps WHERE job_id = %s ORDER BY step_index", (job_id,)
            )
        ]
        raise NotFound(f"job {job_id} has no step {step!r}", {"steps": keys})
    return row


def step_attempts(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID, step: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    s = find_step(conn, workspace_id, job_id, step)
    attempts = conn.execute(
        """
        SELECT id, attempt_number, status, worker_name, pid, created_at, started_at, finished_at,
               heartbeat_at, lease_expires_at, duration_seconds, error_type, error_message, traceback, cost_usd
        FROM step_attempts WHERE job_id = %s AND step_id = %s ORDER BY attempt_number
        """,
        (job_id, s["id"]),
    ).fetchall()
    costs: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for c in conn.execute(
        """
        SELECT attempt_id, kind, provider, model, tokens_in, tokens_out, amount_usd, created_at
        FROM step_costs WHERE job_id = %s AND step_id = %s ORDER BY id
        """,
        (job_id, s["id"]),
    ):
        costs.setdefault(c.pop("attempt_id"), []).append(c)
    metrics: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for m in conn.execute(
        "SELECT attempt_id, name, value, unit, created_at FROM step_metrics WHERE job_id = %s AND step_id = %s ORDER BY id",
        (job_id, s["id"]),
    ):
        metrics.setdefault(m.pop("attempt_id"), []).append(m)
    for a in attempts:
        a["costs"] = costs.get(a["id"], [])
        a["metrics"] = metrics.get(a["id"], [])
    return s, attempts


def job_logs(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    *,
    step: str | None = None,
    attempt: int | None = None,
    min_level: str | None = None,
    after_id: int = 0,
    limit: int = 200,
) -> tuple[list[dict[str, Any]], bool]:
    """Log lines after `after_id`, oldest first; (lines, more to read)."""
    step_id = find_step(conn, workspace_id, job_id, step)["id"] if step is not None else None
    if step_id is None:
        job_head(conn, workspace_id, job_id)
    levels = list(LEVELS[LEVELS.index(min_level) :]) if min_level else list(LEVELS)
    rows = conn.execute(
        """
        SELECT l.id, s.step_key AS step_id, l.attempt_id, a.attempt_number, l.level, l.message, l.created_at
        FROM step_logs l
        JOIN job_steps s ON s.id = l.step_id
        LEFT JOIN step_attempts a ON a.id = l.attempt_id
        WHERE l.job_id = %(job)s AND l.id > %(after)s
          AND (%(step)s::uuid IS NULL OR l.step_id = %(step)s)
          AND (%(attempt)s::int IS NULL OR a.attempt_number = %(attempt)s)
          AND (l.level = ANY(%(levels)s) OR NOT (l.level = ANY(%(all)s)))
        ORDER BY l.id LIMIT %(n)s
        """,
        {
            "job": job_id,
            "after": after_id,
            "step": step_id,
            "attempt": attempt,
            "levels": levels,
            "all": list(LEVELS),
            "n": limit + 1,
        },
    ).fetchall()
    return rows[:limit], len(rows) > limit
