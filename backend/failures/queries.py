"""The failure inbox's SQL. The groups, their counts and their days are kept by the failure
trigger on `job_steps` (migration 0007); a failed step carries its group's fingerprint."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row

from backend.failures.rows import GroupRow, OccurrenceRow
from backend.jobs.models import FAILED_STEP

TREND_DAYS = 7
_STATUS = (
    "CASE WHEN g.state = 'resolved' AND g.last_seen > g.resolved_at THEN 'open' ELSE g.state END"
)
_GROUPS = f"""
    SELECT g.fingerprint, g.workflow_id, w.name AS workflow_name, g.step_key, g.error_type,
           g.message, g.count, g.first_seen, g.last_seen,
           ARRAY(SELECT coalesce(d.n, 0)::int
                 FROM generate_series(0, {TREND_DAYS - 1}) AS back
                 LEFT JOIN failure_days d
                   ON d.workspace_id = g.workspace_id AND d.fingerprint = g.fingerprint
                  AND d.day = (now() AT TIME ZONE 'UTC')::date - ({TREND_DAYS - 1} - back)
                 ORDER BY back) AS trend,
           {_STATUS} AS status,
           (g.state = 'resolved' AND g.last_seen > g.resolved_at) AS reopened,
           g.assignee, g.note, g.acknowledged_at, g.resolved_at
    FROM failure_groups g JOIN workflows w ON w.id = g.workflow_id
    WHERE g.workspace_id = %(ws)s AND g.count > 0
"""


def list_groups(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    status: str | None = None,
    fingerprint: str | None = None,
) -> list[GroupRow]:
    """Groups newest failure first, optionally of one effective status or fingerprint."""
    return (
        conn.cursor(row_factory=class_row(GroupRow))
        .execute(
            f"{_GROUPS} AND (%(st)s::text IS NULL OR {_STATUS} = %(st)s)"
            " AND (%(fp)s::text IS NULL OR g.fingerprint = %(fp)s)"
            " ORDER BY g.last_seen DESC, g.fingerprint",
            {"ws": workspace_id, "st": status, "fp": fingerprint},
        )
        .fetchall()
    )


def count_open(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> int:
    row = conn.execute(
        f"SELECT count(*) AS n FROM failure_groups g WHERE g.workspace_id = %s AND g.count > 0"
        f" AND {_STATUS} = 'open'",
        (workspace_id,),
    ).fetchone()
    return int(row["n"]) if row else 0


def occurrences(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, fingerprint: str, limit: int
) -> list[OccurrenceRow]:
    """The group's failed runs (its steps still failed), newest first."""
    return (
        conn.cursor(row_factory=class_row(OccurrenceRow))
        .execute(
            f"""
            SELECT j.id AS job_id, j.status AS job_status, s.completed_at AS failed_at,
                   left(s.error_message, 1000) AS error_message,
                   (SELECT r.id FROM jobs r WHERE r.rerun_of = j.id
                    ORDER BY r.created_at DESC LIMIT 1) AS rerun_job_id
            FROM job_steps s JOIN jobs j ON j.id = s.job_id
            WHERE s.workspace_id = %s AND s.error_fingerprint = %s AND s.{FAILED_STEP}
            ORDER BY s.completed_at DESC NULLS LAST LIMIT %s
            """,
            (workspace_id, fingerprint, limit),
        )
        .fetchall()
    )


def save_decision(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    fingerprint: str,
    state: str,
    changes: dict[str, Any],
) -> None:
    """Store what operators decided: the `state` (open, acknowledged, resolved: stamping
    its time), and `assignee` and `note` when `changes` has them (else they keep theirs)."""
    conn.execute(
        """
        UPDATE failure_groups SET
            state = %(state)s::text,
            assignee = CASE WHEN %(set_assignee)s THEN %(assignee)s::text ELSE assignee END,
            note = CASE WHEN %(set_note)s THEN %(note)s::text ELSE note END,
            acknowledged_at = CASE WHEN %(state)s::text = 'acknowledged'
                                    AND state <> 'acknowledged' THEN now()
                                   ELSE acknowledged_at END,
            resolved_at = CASE WHEN %(state)s::text = 'resolved' THEN now() ELSE resolved_at END,
            updated_at = now()
        WHERE workspace_id = %(ws)s AND fingerprint = %(fp)s
        """,
        {
            "ws": workspace_id,
            "fp": fingerprint,
            "state": state,
            "assignee": changes.get("assignee"),
            "note": changes.get("note"),
            "set_assignee": "assignee" in changes,
            "set_note": "note" in changes,
        },
    )
