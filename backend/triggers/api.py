"""Triggers (chains): when a job of one workflow ends, start another with a mapped input."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi import status as http

from backend.audit import record_audit
from backend.http.deps import Operator, Principal, Viewer, transaction
from backend.http.responses import errors
from backend.triggers import queries, service
from backend.triggers.rows import TriggerRow
from backend.triggers.schemas import (
    Trigger,
    TriggerCreate,
    TriggerFireList,
    TriggerList,
    TriggerUpdate,
)

router = APIRouter(prefix="/triggers", tags=["triggers"])

NOT_FOUND = "No such trigger (or workflow) in this workspace"
ERRORS = errors(not_found=NOT_FOUND)


@router.post(
    "",
    status_code=http.HTTP_201_CREATED,
    response_model=Trigger,
    responses=errors(
        not_found=NOT_FOUND,
        conflict="A trigger of this name exists",
        invalid="A field is invalid (each input_mapping path with its problem)",
    ),
)
def create_trigger(body: TriggerCreate, principal: Operator) -> TriggerRow:
    with transaction() as conn:
        row = service.create_trigger(conn, principal.workspace_id, body)
        _audit(conn, principal, "trigger.create", row)
    return row


@router.get("", response_model=TriggerList, responses=ERRORS)
def list_triggers(principal: Viewer) -> dict[str, Any]:
    with transaction() as conn:
        return {"items": queries.list_triggers(conn, principal.workspace_id)}


@router.get("/{trigger_id}", response_model=Trigger, responses=ERRORS)
def get_trigger(trigger_id: uuid.UUID, principal: Viewer) -> TriggerRow:
    with transaction() as conn:
        return queries.get_trigger(conn, principal.workspace_id, trigger_id)


@router.patch("/{trigger_id}", response_model=Trigger, responses=ERRORS)
def update_trigger(trigger_id: uuid.UUID, body: TriggerUpdate, principal: Operator) -> TriggerRow:
    with transaction() as conn:
        row = service.set_enabled(conn, principal.workspace_id, trigger_id, body.enabled)
        _audit(conn, principal, "trigger.update", row)
    return row


@router.delete("/{trigger_id}", status_code=http.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_trigger(trigger_id: uuid.UUID, principal: Operator) -> Response:
    with transaction() as conn:
        row = service.delete_trigger(conn, principal.workspace_id, trigger_id)
        _audit(conn, principal, "trigger.delete", row)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.get("/{trigger_id}/fires", response_model=TriggerFireList, responses=ERRORS)
def list_fires(
    trigger_id: uuid.UUID, principal: Viewer, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    """Each ended job that fired the trigger, newest first, with the job it started (or why
    none: refused, loop)."""
    with transaction() as conn:
        queries.get_trigger(conn, principal.workspace_id, trigger_id)
        return {"items": queries.list_fires(conn, principal.workspace_id, trigger_id, limit)}


def _audit(conn: Any, principal: Principal, action: str, row: TriggerRow) -> None:
    state = "enabled" if row.enabled else "disabled"
    data = {
        k: v for k, v in dataclasses.asdict(row).items() if k in ("name", "on", "input_mapping")
    }
    data |= {"source": row.source_workflow, "target": row.target_workflow}
    record_audit(conn, principal, action, "trigger", row.id, None, state, data)
