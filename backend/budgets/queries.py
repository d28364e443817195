"""The SQL of budgets: budgets with their current spend (step costs recorded since the start
of the UTC day or month, of the workspace's jobs or one workflow's)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row

from backend.budgets.rows import BudgetRow, DaySpend
from backend.errors import NotFound

_WITH_SPEND = """
    SELECT b.*, w.name AS workflow_name, p.period_start, p.resets_at,
           (SELECT coalesce(sum(c.amount_usd), 0) FROM jobs j JOIN step_costs c ON c.job_id = j.id
            WHERE j.workspace_id = b.workspace_id
              AND (b.workflow_id IS NULL OR j.workflow_id = b.workflow_id)
              AND j.created_at >= p.period_start - interval '7 days'
              AND c.created_at >= p.period_start) AS spent_usd
    FROM budgets b LEFT JOIN workflows w ON w.id = b.workflow_id
    CROSS JOIN LATERAL (
        SELECT date_trunc(b.period, now(), 'UTC') AS period_start,
               date_trunc(b.period, now(), 'UTC')
                   + CASE b.period WHEN 'day' THEN interval '1 day' ELSE interval '1 month' END
                   AS resets_at) p
"""


def insert(conn: psycopg.Connection[Any], values: dict[str, Any]) -> uuid.UUID | None:
    """The new budget's id; None when the scope already has one for the period."""
    row = conn.execute(
        """
        INSERT INTO budgets (id, workspace_id, workflow_id, period, limit_usd, warn_percent, block)
        VALUES (%(id)s, %(workspace_id)s, %(workflow_id)s, %(period)s, %(limit_usd)s,
                %(warn_percent)s, %(block)s)
        ON CONFLICT ON CONSTRAINT uq_budgets_scope DO NOTHING RETURNING id
        """,
        values,
    ).fetchone()
    return None if row is None else row["id"]  # type: ignore[no-any-return]


def get(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, budget_id: uuid.UUID) -> BudgetRow:
    row = (
        conn.cursor(row_factory=class_row(BudgetRow))
        .execute(
            f"{_WITH_SPEND} WHERE b.id = %s AND b.workspace_id = %s", (budget_id, workspace_id)
        )
        .fetchone()
    )
    if row is None:
        raise NotFound(f"budget {budget_id} not found")
    return row


def list_budgets(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    workflow_id: uuid.UUID | None = None,
    blocking: bool = False,
) -> list[BudgetRow]:
    """The workspace's budgets; with a workflow, those that cover it (its own and the
    workspace-wide ones); `blocking`: only those that block (the spend of the others is
    not summed: this runs at every job creation)."""
    return (
        conn.cursor(row_factory=class_row(BudgetRow))
        .execute(
            f"""{_WITH_SPEND} WHERE b.workspace_id = %s
                AND (%s::uuid IS NULL OR b.workflow_id IS NULL OR b.workflow_id = %s)
                AND (b.block OR NOT %s)
                ORDER BY w.name NULLS FIRST, b.period""",
            (workspace_id, workflow_id, workflow_id, blocking),
        )
        .fetchall()
    )


def any_blocking(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, workflow_id: uuid.UUID
) -> bool:
    """Does a blocking budget cover the workflow? (A cheap look before the spend is summed:
    most workspaces have none, and the summing query costs milliseconds to plan.)"""
    row = conn.execute(
        """
        SELECT EXISTS (SELECT 1 FROM budgets WHERE workspace_id = %s AND block
                       AND (workflow_id IS NULL OR workflow_id = %s)) AS found
        """,
        (workspace_id, workflow_id),
    ).fetchone()
    return bool(row and row["found"])


def all_budgets(conn: psycopg.Connection[Any]) -> list[BudgetRow]:
    return conn.cursor(row_factory=class_row(BudgetRow)).execute(_WITH_SPEND).fetchall()


def delete(conn: psycopg.Connection[Any], budget_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM budgets WHERE id = %s", (budget_id,))


def daily_spend(conn: psycopg.Connection[Any], budget: BudgetRow, days: int) -> list[DaySpend]:
    """The budget's scope's spend per UTC day, the last `days` days, oldest first."""
    return (
        conn.cursor(row_factory=class_row(DaySpend))
        .execute(
            """
            SELECT (d.day AT TIME ZONE 'UTC')::date AS day, coalesce(sum(c.amount_usd), 0) AS spent_usd
            FROM generate_series(date_trunc('day', now(), 'UTC') - make_interval(days => %(days)s - 1),
                                 date_trunc('day', now(), 'UTC'), interval '1 day') AS d(day)
            LEFT JOIN (step_costs c JOIN jobs j ON j.id = c.job_id AND j.workspace_id = %(ws)s
                       AND (%(wf)s::uuid IS NULL OR j.workflow_id = %(wf)s))
                   ON c.created_at >= d.day AND c.created_at < d.day + interval '1 day'
            GROUP BY d.day ORDER BY d.day
            """,
            {"days": days, "ws": budget.workspace_id, "wf": budget.workflow_id},
        )
        .fetchall()
    )
