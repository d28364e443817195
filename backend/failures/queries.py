"""The failure inbox's SQL. Groups are computed from the failed and timed-out steps (a
partial index holds only those), so nothing is written on the engine's hot path; operators'
decisions live in `failure_groups`, keyed by the group's fingerprint."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row

from backend.failures.rows import GroupRow, OccurrenceRow
from backend.jobs.models import FAILED_STEP

TREND_DAYS = 7
# the message with ids, hex and numbers replaced, so "row 17 failed" and "row 18 failed" group
NORMALISED = r"""left(regexp_replace(regexp_replace(regexp_replace(coalesce(s.error_message, ''),
    '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<id>', 'g'),
    '0x[0-9a-fA-F]+', '<hex>', 'g'), '[0-9]+(\.[0-9]+)?', '<n>', 'g'), 300)"""
_TREND = ", ".join(
    f"count(*) FILTER (WHERE at > now() - interval '{d + 1} days'"
    f" AND at <= now() - interval '{d} days')"
    for d in reversed(range(TREND_DAYS))
)
_GROUPS = f"""
    WITH f AS (
        SELECT j.workflow_id, s.step_key, s.error_type, {NORMALISED} AS message, s.job_id,
               coalesce(s.completed_at, s.updated_at) AS at
        FROM job_steps s JOIN jobs j ON j.id = s.job_id
        WHERE s.workspace_id = %(ws)s AND s.{FAILED_STEP}
    ), g AS (
        SELECT md5(workflow_id::text || '|' || step_key || '|' || coalesce(error_type, '')
                   || '|' || message) AS fingerprint,
               workflow_id, step_key, error_type, message, count(*) AS count,
               count(DISTINCT job_id) AS runs, min(at) AS first_seen, max(at) AS last_seen,
               ARRAY[{_TREND}] AS trend
        FROM f GROUP BY workflow_id, step_key, error_type, message
    )
    SELECT g.fingerprint, g.workflow_id, w.name AS workflow_name, g.step_key, g.error_type,
           g.message, g.count, g.runs, g.first_seen, g.last_seen, g.trend,
           CASE WHEN d.state = 'resolved' AND g.last_seen > d.resolved_at THEN 'open'
                ELSE coalesce(d.state, 'open') END AS status,
           coalesce(d.state = 'resolved' AND g.last_seen > d.resolved_at, false) AS reopened,
           d.assignee, d.note, d.acknowledged_at, d.resolved_at
    FROM g JOIN workflows w ON w.id = g.workflow_id
    LEFT JOIN failure_groups d ON d.workspace_id = %(ws)s AND d.fingerprint = g.fingerprint
"""


def list_groups(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    status: str | None = None,
    fingerprint: str | None = None,
) -> list[GroupRow]:
    """Groups newest occurrence first, optionally of one effective status or fingerprint."""
    return (
        conn.cursor(row_factory=class_row(GroupRow))
        .execute(
            f"SELECT * FROM ({_GROUPS}) x"
            " WHERE (%(st)s::text IS NULL OR status = %(st)s)"
            " AND (%(fp)s::text IS NULL OR fingerprint = %(fp)s)"
            " ORDER BY last_seen DESC, fingerprint",
            {"ws": workspace_id, "st": status, "fp": fingerprint},
        )
        .fetchall()
    )


def count_open(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> int:
    row = conn.execute(
        f"SELECT count(*) AS n FROM ({_GROUPS}) x WHERE status = 'open'", {"ws": workspace_id}
    ).fetchone()
    return int(row["n"]) if row else 0


def occurrences(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, group: GroupRow, limit: int
) -> list[OccurrenceRow]:
    """The group's failed runs, newest first."""
    return (
        conn.cursor(row_factory=class_row(OccurrenceRow))
        .execute(
            f"""
            SELECT j.id AS job_id, j.status AS job_status, s.completed_at AS failed_at,
                   left(s.error_message, 1000) AS error_message,
                   (SELECT r.id FROM jobs r WHERE r.rerun_of = j.id
                    ORDER BY r.created_at DESC LIMIT 1) AS rerun_job_id
            FROM job_steps s JOIN jobs j ON j.id = s.job_id
            WHERE s.workspace_id = %(ws)s AND s.{FAILED_STEP} AND s.step_key = %(key)s
              AND j.workflow_id = %(wf)s AND s.error_type IS NOT DISTINCT FROM %(type)s
              AND {NORMALISED} = %(msg)s
            ORDER BY s.completed_at DESC NULLS LAST LIMIT %(limit)s
            """,
            {
                "ws": workspace_id,
                "key": group.step_key,
                "wf": group.workflow_id,
                "type": group.error_type,
                "msg": group.message,
                "limit": limit,
            },
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
    """Upsert what operators decided: the `state` (open, acknowledged, resolved: stamping
    its time), and `assignee` and `note` when `changes` has them (else they keep theirs)."""
    conn.execute(
        """
        INSERT INTO failure_groups AS d (workspace_id, fingerprint, state, assignee, note,
                                         acknowledged_at, resolved_at)
        VALUES (%(ws)s, %(fp)s, %(state)s::text, %(assignee)s::text, %(note)s::text,
                CASE WHEN %(state)s::text = 'acknowledged' THEN now() END,
                CASE WHEN %(state)s::text = 'resolved' THEN now() END)
        ON CONFLICT (workspace_id, fingerprint) DO UPDATE SET
            state = %(state)s::text,
            assignee = CASE WHEN %(set_assignee)s THEN %(assignee)s::text ELSE d.assignee END,
            note = CASE WHEN %(set_note)s THEN %(note)s::text ELSE d.note END,
            acknowledged_at = CASE WHEN %(state)s::text = 'acknowledged' AND d.state <> 'acknowledged'
                                   THEN now() ELSE d.acknowledged_at END,
            resolved_at = CASE WHEN %(state)s::text = 'resolved' THEN now() ELSE d.resolved_at END,
            updated_at = now()
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
