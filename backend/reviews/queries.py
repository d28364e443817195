"""The SQL of reviews: opening a gate's review from its upstream step's items, reading it
(paged, searchable), recording decisions and patches, submitting, and the job's
`draft_state`. Rows are frozen types (backend/reviews/rows.py)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from backend.errors import NotFound
from backend.jobs.rows import JobRow
from backend.jobs.views import items_of
from backend.reviews.rows import ReviewItemRow, ReviewRow
from backend.workflows import queries as workflows

OPEN, SUBMITTED = "open", "submitted"
APPROVED, REJECTED = "approved", "rejected"


def open_review(conn: psycopg.Connection[Any], job: JobRow, step_id: uuid.UUID) -> None:
    """The gate's review of its `items_from` step's items (the engine calls this when the
    gate starts waiting, under the job lock). A review that exists is kept with its
    decisions (a resumed job), and opened again if it was submitted."""
    existing = conn.execute(
        "UPDATE job_reviews SET status = %s, updated_at = now() WHERE step_id = %s RETURNING id",
        (OPEN, step_id),
    ).fetchone()
    if existing is not None:
        return
    key = conn.execute("SELECT step_key FROM job_steps WHERE id = %s", (step_id,)).fetchone()
    assert key is not None
    spec = workflows.step_definition(conn, job.workflow_version_id, key["step_key"])
    assert spec.items_from is not None
    source = conn.execute(
        "SELECT output_data FROM job_steps WHERE job_id = %s AND step_key = %s",
        (job.id, spec.items_from),
    ).fetchone()
    items = items_of(source["output_data"] if source else None) or []
    review_id = uuid.uuid4()
    conn.execute(
        """
        INSERT INTO job_reviews (id, workspace_id, job_id, step_id, step_key, items_from, status,
                                 editable)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            review_id,
            job.workspace_id,
            job.id,
            step_id,
            spec.key,
            spec.items_from,
            OPEN,
            Jsonb(spec.editable or {}),
        ),
    )
    rows, seen = [], set()
    for position, item in enumerate(items, start=1):
        value = item if isinstance(item, dict) else {"value": item}
        item_id = str(value.get("id", position))[:200]
        if item_id in seen:  # a duplicate id: the first one is the item
            continue
        seen.add(item_id)
        rows.append((review_id, item_id, position, Jsonb(value), Jsonb(value)))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO review_items (review_id, item_id, position, original, item)"
            " VALUES (%s, %s, %s, %s, %s)",
            rows,
        )
    if rows:
        set_draft_state(conn, job.id, "proposed")


def discard_review(conn: psycopg.Connection[Any], step_id: uuid.UUID) -> None:
    """Forget a gate's review (its items' upstream step is being executed again)."""
    conn.execute("DELETE FROM job_reviews WHERE step_id = %s", (step_id,))


def set_draft_state(
    conn: psycopg.Connection[Any], job_id: uuid.UUID, state: str, only_from: tuple[str, ...] = ()
) -> None:
    """The job's draft state (none, proposed, in_review, approved, rejected, applied);
    `only_from` limits the change to those current states."""
    conn.execute(
        "UPDATE jobs SET draft_state = %s, updated_at = now()"
        " WHERE id = %s AND (cardinality(%s::text[]) = 0 OR draft_state = ANY(%s::text[]))",
        (state, job_id, list(only_from), list(only_from)),
    )


_REVIEW_SQL = """
    SELECT r.id, r.job_id, r.step_id, r.step_key, r.items_from, r.status, r.editable,
           r.submitted_by, r.submitted_at, r.created_at, r.updated_at, s.name AS step_name,
           s.status AS step_status,
           count(i.id) AS total,
           count(i.id) FILTER (WHERE i.decision = 'approved') AS approved,
           count(i.id) FILTER (WHERE i.decision = 'rejected') AS rejected
    FROM job_reviews r
    JOIN job_steps s ON s.id = r.step_id
    LEFT JOIN review_items i ON i.review_id = r.id
    WHERE r.job_id = %(job)s AND r.workspace_id = %(ws)s
      AND (%(step)s::text IS NULL OR r.step_key = %(step)s)
    GROUP BY r.id, s.name, s.status, s.step_index
    ORDER BY (r.status = 'open') DESC, s.step_index
    LIMIT 1
"""


def get_review(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    step: str | None = None,
    *,
    lock: bool = False,
) -> ReviewRow:
    """The job's review at gate `step` (default: its open one, else its last); NotFound."""
    row = (
        conn.cursor(row_factory=class_row(ReviewRow))
        .execute(_REVIEW_SQL, {"job": job_id, "ws": workspace_id, "step": step})
        .fetchone()
    )
    if row is None:
        which = f"at step {step!r}" if step else "yet"
        raise NotFound(f"job {job_id} has no review {which}")
    if lock:
        conn.execute("SELECT 1 FROM job_reviews WHERE id = %s FOR UPDATE", (row.id,))
    return row


_ITEM_FILTER = """
    WHERE review_id = %(review)s
      AND (%(decision)s::text IS NULL OR coalesce(decision, 'undecided') = %(decision)s)
      AND (%(q)s::text IS NULL OR item::text ILIKE %(q)s)
"""
_ITEMS_SQL = f"""
    SELECT item_id, position, item, original, decision, note, decided_by, decided_at
    FROM review_items {_ITEM_FILTER}
    ORDER BY position LIMIT %(limit)s OFFSET %(offset)s
"""
_COUNT_SQL = f"SELECT count(*) AS n FROM review_items {_ITEM_FILTER}"


def list_items(
    conn: psycopg.Connection[Any],
    review_id: uuid.UUID,
    *,
    q: str | None = None,
    decision: str | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> tuple[list[ReviewItemRow], int]:
    """A page of the items in their order (search in the item's text, filter by decision:
    approved, rejected or undecided); (items, how many matched)."""
    pattern = None
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    params = {"review": review_id, "decision": decision, "q": pattern}
    rows = (
        conn.cursor(row_factory=class_row(ReviewItemRow))
        .execute(_ITEMS_SQL, {**params, "limit": limit, "offset": offset})
        .fetchall()
    )
    count = conn.execute(_COUNT_SQL, params).fetchone()
    return rows, int(count["n"]) if count else 0


def items_by_id(
    conn: psycopg.Connection[Any], review_id: uuid.UUID, ids: list[str]
) -> dict[str, ReviewItemRow]:
    """The review's items of these ids, locked."""
    rows = (
        conn.cursor(row_factory=class_row(ReviewItemRow))
        .execute(
            """
            SELECT item_id, position, item, original, decision, note, decided_by, decided_at
            FROM review_items WHERE review_id = %s AND item_id = ANY(%s) ORDER BY position
            FOR UPDATE
            """,
            (review_id, ids),
        )
        .fetchall()
    )
    return {r.item_id: r for r in rows}


def decide(
    conn: psycopg.Connection[Any],
    review_id: uuid.UUID,
    item_id: str,
    decision: str | None,
    note: str | None,
    actor: str,
) -> None:
    conn.execute(
        """
        UPDATE review_items SET decision = %s, note = %s, decided_by = %s,
               decided_at = CASE WHEN %s::text IS NULL THEN NULL ELSE now() END, updated_at = now()
        WHERE review_id = %s AND item_id = %s
        """,
        (decision, note, actor[:200], decision, review_id, item_id),
    )


def patch_item(
    conn: psycopg.Connection[Any], review_id: uuid.UUID, item_id: str, item: dict[str, Any]
) -> None:
    conn.execute(
        "UPDATE review_items SET item = %s, updated_at = now() WHERE review_id = %s AND item_id = %s",
        (Jsonb(item), review_id, item_id),
    )


def reject_undecided(conn: psycopg.Connection[Any], review_id: uuid.UUID, actor: str) -> int:
    """Reject every undecided item (a submit with `undecided: reject`); how many."""
    cur = conn.execute(
        """
        UPDATE review_items SET decision = 'rejected', note = 'undecided at submit',
               decided_by = %s, decided_at = now(), updated_at = now()
        WHERE review_id = %s AND decision IS NULL
        """,
        (actor[:200], review_id),
    )
    return cur.rowcount


def all_items(conn: psycopg.Connection[Any], review_id: uuid.UUID) -> list[ReviewItemRow]:
    rows, _ = list_items(conn, review_id, limit=None)
    return rows


def mark_submitted(conn: psycopg.Connection[Any], review_id: uuid.UUID, actor: str) -> None:
    conn.execute(
        "UPDATE job_reviews SET status = %s, submitted_by = %s, submitted_at = now(),"
        " updated_at = now() WHERE id = %s",
        (SUBMITTED, actor[:200], review_id),
    )
