"""Cost budgets: create and delete them, the check `create_job` makes (a blocking budget that
is spent refuses new jobs with 429 until its period resets; `force` passes), the scheduler's
threshold pass (alerts of kind budget_threshold, once per budget, period and level) and the
spend lines of /metrics."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from backend.alerts.rows import Kind
from backend.alerts.service import emit
from backend.automation.contain import contained
from backend.budgets import queries
from backend.budgets.rows import BudgetRow
from backend.budgets.schemas import BudgetCreate
from backend.errors import BudgetExhausted, Conflict
from backend.workflows import queries as workflows


def create_budget(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, spec: BudgetCreate
) -> BudgetRow:
    workflow_id = (
        workflows.find_workflow(conn, workspace_id, spec.workflow).id if spec.workflow else None
    )
    values = spec.model_dump(exclude={"workflow"}) | {
        "id": uuid.uuid4(),
        "workspace_id": workspace_id,
        "workflow_id": workflow_id,
    }
    budget_id = queries.insert(conn, values)
    if budget_id is None:
        raise Conflict(
            f"this scope already has a {spec.period} budget",
            [{"loc": ["period"], "msg": "one budget per workspace or workflow and period"}],
        )
    return queries.get(conn, workspace_id, budget_id)


def delete_budget(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, budget_id: uuid.UUID
) -> BudgetRow:
    row = queries.get(conn, workspace_id, budget_id)
    queries.delete(conn, row.id)
    return row


def check_start(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, workflow_id: uuid.UUID, force: bool
) -> None:
    """Refuse a new job while a blocking budget covering the workflow is spent."""
    if force or not queries.any_blocking(conn, workspace_id, workflow_id):
        return
    for budget in queries.list_budgets(conn, workspace_id, workflow_id, blocking=True):
        if budget.spent_usd >= budget.limit_usd:
            wait = (budget.resets_at - _now(conn)).total_seconds()
            scope = f"workflow {budget.workflow_name}" if budget.workflow_name else "the workspace"
            raise BudgetExhausted(
                f"the {budget.period} budget of {scope} is spent (${budget.spent_usd:.2f} of "
                f"${budget.limit_usd:.2f}); it resets at {budget.resets_at.isoformat()}",
                retry_after=max(wait, 1.0),
                details={
                    "budget_id": str(budget.id),
                    "period": budget.period,
                    "limit_usd": float(budget.limit_usd),
                    "spent_usd": float(budget.spent_usd),
                    "resets_at": budget.resets_at.isoformat(),
                },
            )


def thresholds(conn: psycopg.Connection[Any]) -> int:
    """Alert on budgets past their warn threshold or limit (once per period and level); the
    number of messages queued. `conn` is not inside a transaction."""
    sent = 0
    for budget in queries.all_budgets(conn):
        for level in _levels(budget):
            subject = f"{budget.id}:{budget.period_start.date().isoformat()}:{level}"
            scope = f"workflow {budget.workflow_name}" if budget.workflow_name else "the workspace"
            message = (
                f"{scope} has spent ${budget.spent_usd:.2f} of its {budget.period} budget "
                f"${budget.limit_usd:.2f} ({budget.percent:.0f}%, {level})"
            )
            data = {"budget_id": str(budget.id), "level": level, "percent": budget.percent}
            with contained(f"budget {budget.id}"), conn.transaction():
                sent += emit(
                    conn,
                    budget.workspace_id,
                    Kind.BUDGET_THRESHOLD,
                    budget.workflow_id,
                    subject,
                    message,
                    data,
                )
    return sent


def metric_rows(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, label: str
) -> list[tuple[str, str, str, float, float]]:
    """(workspace, workflow, period, spend, limit) of each budget in its current period, for
    the Prometheus gauges (an empty workflow: the workspace's budget)."""
    return [
        (label, b.workflow_name or "", b.period, round(float(b.spent_usd), 6), float(b.limit_usd))
        for b in queries.list_budgets(conn, workspace_id)
    ]


def _levels(budget: BudgetRow) -> list[str]:
    levels = []
    if budget.percent >= budget.warn_percent:
        levels.append("warn")
    if budget.spent_usd >= budget.limit_usd:
        levels.append("limit")
    return levels


def _now(conn: psycopg.Connection[Any]) -> Any:
    row = conn.execute("SELECT now() AS now").fetchone()
    assert row is not None
    return row["now"]
