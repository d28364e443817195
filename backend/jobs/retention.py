"""Retention: deleting finished jobs older than a cutoff, with everything they recorded
(steps, attempts, logs, costs, metrics, events go with them by ON DELETE CASCADE).
Work in batches, one transaction each, so a large prune never holds locks for long."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import psycopg

from backend.errors import InvalidInput
from backend.jobs.states import JOB_TERMINAL

RELATED = ("job_steps", "step_attempts", "step_logs", "step_costs", "step_metrics", "job_events")


def check_statuses(statuses: list[str] | None) -> list[str]:
    chosen = sorted(statuses or JOB_TERMINAL)
    wrong = [s for s in chosen if s not in JOB_TERMINAL]
    if wrong:
        raise InvalidInput(
            "only finished jobs can be pruned",
            [
                {"loc": ["status"], "msg": f"{s!r} is not one of {sorted(JOB_TERMINAL)}"}
                for s in wrong
            ],
        )
    return chosen


def select_batch(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    older_than: timedelta,
    statuses: list[str],
    limit: int,
    after: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Up to `limit` prunable job ids, in id order after `after` (for dry runs that page)."""
    rows = conn.execute(
        """
        SELECT id FROM jobs
        WHERE workspace_id = %s AND status = ANY(%s)
          AND coalesce(completed_at, created_at) < now() - %s
          AND (%s::uuid IS NULL OR id > %s)
        ORDER BY id LIMIT %s
        """,
        (workspace_id, statuses, older_than, after, after, limit),
    ).fetchall()
    return [r["id"] for r in rows]


def count_related(conn: psycopg.Connection[Any], job_ids: list[uuid.UUID]) -> dict[str, int]:
    counts = {"jobs": len(job_ids)}
    for table in RELATED:
        row = conn.execute(
            f"SELECT count(*) AS n FROM {table} WHERE job_id = ANY(%s)", (job_ids,)
        ).fetchone()
        counts[table] = int(row["n"]) if row else 0
    return counts


def delete_jobs(conn: psycopg.Connection[Any], job_ids: list[uuid.UUID]) -> None:
    conn.execute("DELETE FROM jobs WHERE id = ANY(%s)", (job_ids,))


def parse_age(text: str) -> timedelta:
    """'30d', '12h', '45m', '90s' or '2w' -> a timedelta (a clear error otherwise)."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    value, unit = text[:-1].strip(), text[-1:].lower()
    if unit not in units or not value.isdigit() or int(value) <= 0:
        raise InvalidInput(
            f"invalid age {text!r}",
            [
                {
                    "loc": ["older_than"],
                    "msg": "a positive whole number and a unit: 90s, 45m, 12h, 30d or 2w",
                }
            ],
        )
    return timedelta(**{units[unit]: int(value)})
