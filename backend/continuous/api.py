"""Continuous workflows: started when their expected_work function reports pending work,
checked on a PostgreSQL NOTIFY to their channel or every interval."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from fastapi import status as http

from backend.audit import record_audit
from backend.continuous import queries, service
from backend.continuous.rows import ContinuousRow
from backend.continuous.schemas import (
    Continuous,
    ContinuousCreate,
    ContinuousList,
    ContinuousUpdate,
)
from backend.http.deps import Operator, Principal, Viewer, transaction
from backend.http.responses import errors

router = APIRouter(prefix="/continuous", tags=["continuous"])

NOT_FOUND = "No such continuous workflow (or workflow) in this workspace"
ERRORS = errors(not_found=NOT_FOUND)


@router.post(
    "",
    status_code=http.HTTP_201_CREATED,
    response_model=Continuous,
    responses=errors(
        not_found=NOT_FOUND,
        conflict="The workflow is already continuous",
        invalid="An unknown expected_work function, a bad channel, an input the workflow refuses",
    ),
)
def create(body: ContinuousCreate, principal: Operator) -> ContinuousRow:
    with transaction() as conn:
        row = service.create(conn, principal.workspace_id, body)
        _audit(conn, principal, "continuous.create", row)
    return row


@router.get("", response_model=ContinuousList, responses=ERRORS)
def list_continuous(principal: Viewer) -> dict[str, Any]:
    with transaction() as conn:
        return {"items": queries.list_all(conn, principal.workspace_id)}


@router.get("/{continuous_id}", response_model=Continuous, responses=ERRORS)
def get_continuous(continuous_id: uuid.UUID, principal: Viewer) -> ContinuousRow:
    with transaction() as conn:
        return queries.get(conn, principal.workspace_id, continuous_id)


@router.patch("/{continuous_id}", response_model=Continuous, responses=ERRORS)
def update(continuous_id: uuid.UUID, body: ContinuousUpdate, principal: Operator) -> ContinuousRow:
    with transaction() as conn:
        row = service.set_enabled(conn, principal.workspace_id, continuous_id, body.enabled)
        _audit(conn, principal, "continuous.update", row)
    return row


@router.delete("/{continuous_id}", status_code=http.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete(continuous_id: uuid.UUID, principal: Operator) -> Response:
    with transaction() as conn:
        row = service.delete(conn, principal.workspace_id, continuous_id)
        _audit(conn, principal, "continuous.delete", row)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


def _audit(conn: Any, principal: Principal, action: str, row: ContinuousRow) -> None:
    data = {
        "workflow": row.workflow_name,
        "expected_work": row.expected_work,
        "channel": row.channel,
    }
    state = "enabled" if row.enabled else "disabled"
    record_audit(conn, principal, action, "continuous", row.id, None, state, data)
