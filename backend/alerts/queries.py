"""The SQL of alerts: rules (scoped to a workspace), the notices that make a subject alert
once, the failure groups a failed job opened, and the scans of running jobs (long, slower
than usual, stuck)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from backend.alerts.rows import Match, OpenedGroup, RuleRow
from backend.errors import NotFound
from backend.jobs.models import FAILED_STEP
from backend.jobs.states import J, sql_literal

_RUNNING = sql_literal(J.RUNNING)
_IN_SCOPE = "(%(workflows)s::uuid[] = '{}' OR j.workflow_id = ANY(%(workflows)s::uuid[]))"


def insert_rule(conn: psycopg.Connection[Any], values: dict[str, Any]) -> uuid.UUID:
    row = conn.execute(
        """
        INSERT INTO alert_rules (id, workspace_id, name, kind, params, workflow_ids, channel_ids,
                                 quiet_seconds, enabled, suppressed)
        VALUES (%(id)s, %(workspace_id)s, %(name)s, %(kind)s, %(params)s, %(workflow_ids)s,
                %(channel_ids)s, %(quiet_seconds)s, %(enabled)s, 0)
        RETURNING id
        """,
        {
            **values,
            "params": Jsonb(values["params"]),
            "workflow_ids": Jsonb(values["workflow_ids"]),
            "channel_ids": Jsonb(values["channel_ids"]),
        },
    ).fetchone()
    assert row is not None
    return row["id"]  # type: ignore[no-any-return]


def name_taken(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM alert_rules WHERE workspace_id = %s AND name = %s", (workspace_id, name)
    ).fetchone()
    return row is not None


def get_rule(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, rule_id: uuid.UUID) -> RuleRow:
    row = (
        conn.cursor(row_factory=class_row(RuleRow))
        .execute(
            "SELECT * FROM alert_rules WHERE id = %s AND workspace_id = %s", (rule_id, workspace_id)
        )
        .fetchone()
    )
    if row is None:
        raise NotFound(f"alert rule {rule_id} not found")
    return row


def list_rules(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> list[RuleRow]:
    return (
        conn.cursor(row_factory=class_row(RuleRow))
        .execute("SELECT * FROM alert_rules WHERE workspace_id = %s ORDER BY name", (workspace_id,))
        .fetchall()
    )


def delete_rule(conn: psycopg.Connection[Any], rule_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM alert_rules WHERE id = %s", (rule_id,))


def rules_for(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, kind: str, workflow_id: uuid.UUID | None
) -> list[RuleRow]:
    """Enabled rules of a kind that cover the workflow, locked (their quiet period is state)."""
    return (
        conn.cursor(row_factory=class_row(RuleRow))
        .execute(
            """
            SELECT * FROM alert_rules
            WHERE workspace_id = %s AND kind = %s AND enabled
              AND (workflow_ids = '[]'::jsonb OR %s::text IS NULL OR workflow_ids ? %s::text)
            ORDER BY id FOR UPDATE
            """,
            (workspace_id, kind, workflow_id, workflow_id),
        )
        .fetchall()
    )


def enabled_rules(conn: psycopg.Connection[Any], kinds: list[str]) -> list[RuleRow]:
    return (
        conn.cursor(row_factory=class_row(RuleRow))
        .execute("SELECT * FROM alert_rules WHERE enabled AND kind = ANY(%s)", (kinds,))
        .fetchall()
    )


def note(conn: psycopg.Connection[Any], rule_id: uuid.UUID, subject: str, sent: bool) -> bool:
    """Record that the rule matched the subject; False when it already had."""
    row = conn.execute(
        """
        INSERT INTO alert_notices (id, rule_id, subject, sent) VALUES (%s, %s, %s, %s)
        ON CONFLICT DO NOTHING RETURNING id
        """,
        (uuid.uuid4(), rule_id, subject, sent),
    ).fetchone()
    return row is not None


def in_quiet_period(conn: psycopg.Connection[Any], rule: RuleRow) -> bool:
    row = conn.execute(
        "SELECT %s::timestamptz > now() - make_interval(secs => %s) AS quiet",
        (rule.last_sent_at, rule.quiet_seconds),
    ).fetchone()
    return bool(row and row["quiet"])


def mark(conn: psycopg.Connection[Any], rule_id: uuid.UUID, sent: bool) -> None:
    if sent:
        conn.execute(
            "UPDATE alert_rules SET last_sent_at = now(), suppressed = 0 WHERE id = %s", (rule_id,)
        )
    else:
        conn.execute("UPDATE alert_rules SET suppressed = suppressed + 1 WHERE id = %s", (rule_id,))


def previous_outcome(
    conn: psycopg.Connection[Any], workflow_id: uuid.UUID, job_id: uuid.UUID
) -> str | None:
    """The status of the workflow's job that ended before this one."""
    row = conn.execute(
        """
        SELECT status FROM jobs
        WHERE workflow_id = %s AND id <> %s AND completed_at IS NOT NULL
          AND completed_at <= (SELECT completed_at FROM jobs WHERE id = %s)
          AND status IN ('completed', 'failed')
        ORDER BY completed_at DESC LIMIT 1
        """,
        (workflow_id, job_id, job_id),
    ).fetchone()
    return None if row is None else str(row["status"])


def step_failures(
    conn: psycopg.Connection[Any], job_id: uuid.UUID, step_key: str, until: datetime
) -> int:
    """A step's failed attempts up to a moment (an event's time: its transaction's)."""
    row = conn.execute(
        "SELECT count(*) AS n FROM step_attempts WHERE job_id = %s AND step_key = %s"
        " AND status IN ('failed', 'timed_out', 'lost') AND finished_at <= %s",
        (job_id, step_key, until),
    ).fetchone()
    return int(row["n"]) if row else 0


def groups_opened(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> list[OpenedGroup]:
    """The failure groups (migration 0007's trigger keeps them) that a failed step of this job
    opened: the group's first failure (never resolved), or its first failure after it was
    resolved. An acknowledged group, or one reopened by hand, is not opened by a failure."""
    return (
        conn.cursor(row_factory=class_row(OpenedGroup))
        .execute(
            f"""
            SELECT g.fingerprint, w.name AS workflow_name, g.step_key, g.error_type, g.message,
                   g.count, g.resolved_at IS NOT NULL AS reopened,
                   coalesce(g.resolved_at, g.first_seen) AS opening
            FROM job_steps s
            JOIN failure_groups g
              ON g.workspace_id = s.workspace_id AND g.fingerprint = s.error_fingerprint
            JOIN workflows w ON w.id = g.workflow_id
            WHERE s.job_id = %(job)s AND s.{FAILED_STEP}
              AND CASE WHEN g.state = 'resolved' THEN
                    s.completed_at > g.resolved_at AND NOT EXISTS (
                        SELECT 1 FROM job_steps o
                        WHERE o.workspace_id = g.workspace_id
                          AND o.error_fingerprint = g.fingerprint AND o.{FAILED_STEP}
                          AND o.completed_at > g.resolved_at
                          AND (o.completed_at, o.id) < (s.completed_at, s.id))
                  ELSE g.state = 'open' AND g.resolved_at IS NULL
                       AND s.completed_at = g.first_seen
                  END
            ORDER BY g.fingerprint
            """,
            {"job": job_id},
        )
        .fetchall()
    )


def running_longer(conn: psycopg.Connection[Any], rule: RuleRow, seconds: float) -> list[Match]:
    return _matches(
        conn,
        f"""
        SELECT j.id AS job_id, j.workflow_id, w.name AS workflow_name,
               EXTRACT(EPOCH FROM now() - j.started_at)::float AS seconds
        FROM jobs j JOIN workflows w ON w.id = j.workflow_id
        WHERE j.workspace_id = %(ws)s AND j.status = {_RUNNING} AND {_IN_SCOPE}
          AND j.started_at < now() - make_interval(secs => %(seconds)s)
        """,
        rule,
        seconds=seconds,
    )


def slower_than_usual(
    conn: psycopg.Connection[Any], rule: RuleRow, factor: float, min_samples: int
) -> list[Match]:
    """Running jobs past factor x the p95 duration of their workflow's last 100 completions."""
    return _matches(
        conn,
        f"""
        SELECT j.id AS job_id, j.workflow_id, w.name AS workflow_name,
               EXTRACT(EPOCH FROM now() - j.started_at)::float AS seconds, p.p95
        FROM jobs j JOIN workflows w ON w.id = j.workflow_id
        CROSS JOIN LATERAL (
            SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY d) AS p95, count(*) AS n
            FROM (SELECT EXTRACT(EPOCH FROM c.completed_at - c.started_at)::float AS d
                  FROM jobs c WHERE c.workflow_id = j.workflow_id AND c.status = 'completed'
                    AND c.started_at IS NOT NULL
                  ORDER BY c.completed_at DESC LIMIT 100) recent) p
        WHERE j.workspace_id = %(ws)s AND j.status = {_RUNNING} AND {_IN_SCOPE}
          AND p.n >= %(min_samples)s
          AND EXTRACT(EPOCH FROM now() - j.started_at) > p.p95 * %(factor)s
        """,
        rule,
        factor=factor,
        min_samples=min_samples,
    )


def silent(conn: psycopg.Connection[Any], rule: RuleRow, seconds: float) -> list[Match]:
    """Running jobs with no event (no step started, ended or retried) for `seconds`."""
    return _matches(
        conn,
        f"""
        SELECT j.id AS job_id, j.workflow_id, w.name AS workflow_name,
               EXTRACT(EPOCH FROM now() - e.last_at)::float AS seconds
        FROM jobs j JOIN workflows w ON w.id = j.workflow_id
        CROSS JOIN LATERAL (SELECT max(created_at) AS last_at FROM job_events
                            WHERE job_id = j.id) e
        WHERE j.workspace_id = %(ws)s AND j.status = {_RUNNING} AND {_IN_SCOPE}
          AND e.last_at < now() - make_interval(secs => %(seconds)s)
        """,
        rule,
        seconds=seconds,
    )


def _matches(conn: psycopg.Connection[Any], sql: str, rule: RuleRow, **params: Any) -> list[Match]:
    return (
        conn.cursor(row_factory=class_row(Match))
        .execute(
            sql,  # type: ignore[arg-type]
            {
                "ws": rule.workspace_id,
                "workflows": [uuid.UUID(w) for w in rule.workflow_ids],
                **params,
            },
        )
        .fetchall()
    )


def lock_rule(conn: psycopg.Connection[Any], rule_id: uuid.UUID) -> RuleRow | None:
    """The rule as it is now, locked; None when another scheduler holds it."""
    return (
        conn.cursor(row_factory=class_row(RuleRow))
        .execute("SELECT * FROM alert_rules WHERE id = %s FOR UPDATE SKIP LOCKED", (rule_id,))
        .fetchone()
    )
