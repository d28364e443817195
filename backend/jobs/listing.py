"""The job list: filters, pages and totals, scoped to one workspace. List pages follow the composite indexes of `jobs` (see models.py): one index range
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
from psycopg.rows import class_row

from backend.errors import InvalidInput
from backend.jobs import search
from backend.jobs.queries import JOB_COLUMNS, JOB_JOINS
from backend.jobs.rows import JobRow
from backend.jobs.states import JobStatus

COUNT_CAP = 10_000  # totals that need a scan stop counting here
WAITING = "j.waiting_for IS NOT NULL"  # the partial index ix_jobs_waiting matches it
MAX_BRANCHES = 24
# list items carry the start of a long error message (the job itself has all of it)
_ITEM = JOB_COLUMNS.replace("j.error_message", "left(j.error_message, 1000) AS error_message")


@dataclass(frozen=True)
class JobFilter:
    statuses: tuple[str, ...] = ()
    workflow_id: uuid.UUID | None = None
    q: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    waiting: bool = False  # only jobs with a step waiting for a person
    terms: tuple[search.Term, ...] = ()  # payload, error, cost... filters (search.py)


@dataclass
class Page:
    rows: list[JobRow]
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
    if f.waiting:
        common.append(WAITING)
    if f.terms:
        conds, values = search.conditions(f.terms)
        common.extend(conds)
        plan.params.update(values)
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
    rows = (
        conn.cursor(row_factory=class_row(JobRow))
        .execute(
            f"""
            WITH page AS (
                SELECT u.id, u.created_at FROM ({" UNION ALL ".join(parts)}) u
                ORDER BY u.created_at {order}, u.id {order} OFFSET %(skip)s LIMIT %(take)s
            )
            SELECT {_ITEM} FROM page p JOIN jobs j ON j.id = p.id {JOB_JOINS}
            ORDER BY p.created_at {order}, p.id {order}
            """,  # only our own constant fragments are formatted in
            plan.params,
        )
        .fetchall()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id, descending) if more else None
    total, exact = _total(conn, workspace_id, f, plan)
    return Page(rows, total, exact, next_cursor)


def _total(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, f: JobFilter, plan: _Plan
) -> tuple[int, bool]:
    """Exact from the counters when the filter allows (status, workflow, and the workflow
    names `q` matched); the rest (dates, search terms, a job id prefix) is counted up to
    COUNT_CAP."""
    dated = f.created_after is not None or f.created_before is not None
    if dated or f.waiting or f.terms:
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


def count_waiting(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, workflow_id: uuid.UUID | None = None
) -> int:
    """Jobs with a step waiting for a person (few: the partial index holds only them)."""
    row = conn.execute(
        f"SELECT count(*) AS n FROM jobs j WHERE j.workspace_id = %s AND {WAITING}"
        " AND (%s::uuid IS NULL OR j.workflow_id = %s)",
        (workspace_id, workflow_id, workflow_id),
    ).fetchone()
    return int(row["n"]) if row else 0


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
