"""Cost budgets per workspace or workflow and day or month, with their current spend."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi import status as http

from backend.audit import record_audit
from backend.budgets import queries, service
from backend.budgets.rows import BudgetRow
from backend.budgets.schemas import Budget, BudgetCreate, BudgetList, DailySpend
from backend.http.deps import Admin, Viewer, transaction
from backend.http.responses import errors
from backend.workflows import queries as workflows

router = APIRouter(prefix="/budgets", tags=["budgets"])

NOT_FOUND = "No such budget (or workflow) in this workspace"
ERRORS = errors(not_found=NOT_FOUND)


def _out(row: BudgetRow) -> dict[str, Any]:
    return dataclasses.asdict(row) | {"percent": row.percent}


@router.post(
    "",
    status_code=http.HTTP_201_CREATED,
    response_model=Budget,
    responses=errors(
        not_found=NOT_FOUND,
        conflict="The scope already has a budget for this period",
        invalid="A field is invalid",
    ),
)
def create_budget(body: BudgetCreate, principal: Admin) -> dict[str, Any]:
    with transaction() as conn:
        row = service.create_budget(conn, principal.workspace_id, body)
        data = body.model_dump(mode="json")
        record_audit(conn, principal, "budget.create", "budget", row.id, None, None, data)
    return _out(row)


@router.get("", response_model=BudgetList, responses=ERRORS)
def list_budgets(
    principal: Viewer,
    workflow: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Budgets covering this workflow"),
    ] = None,
) -> dict[str, Any]:
    with transaction() as conn:
        workflow_id = (
            workflows.find_workflow(conn, principal.workspace_id, workflow).id if workflow else None
        )
        rows = queries.list_budgets(conn, principal.workspace_id, workflow_id)
    return {"items": [_out(r) for r in rows]}


@router.get("/{budget_id}", response_model=Budget, responses=ERRORS)
def get_budget(budget_id: uuid.UUID, principal: Viewer) -> dict[str, Any]:
    with transaction() as conn:
        return _out(queries.get(conn, principal.workspace_id, budget_id))


@router.delete("/{budget_id}", status_code=http.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_budget(budget_id: uuid.UUID, principal: Admin) -> Response:
    with transaction() as conn:
        row = service.delete_budget(conn, principal.workspace_id, budget_id)
        record_audit(
            conn, principal, "budget.delete", "budget", row.id, None, None, {"period": row.period}
        )
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.get("/{budget_id}/daily", response_model=DailySpend, responses=ERRORS)
def daily_spend(
    budget_id: uuid.UUID, principal: Viewer, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> dict[str, Any]:
    """The spend of the budget's scope per UTC day (for a chart against the limit)."""
    with transaction() as conn:
        budget = queries.get(conn, principal.workspace_id, budget_id)
        return {"budget_id": budget.id, "items": queries.daily_spend(conn, budget, days)}
