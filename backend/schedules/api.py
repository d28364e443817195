"""Schedules: create, list, read, change, pause, resume, delete, the next due times and the
fires (each due time with the job it started, or why none)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi import status as http

from backend.audit import record_audit
from backend.http.deps import Operator, Principal, Viewer, transaction
from backend.http.responses import errors
from backend.schedules import queries, service
from backend.schedules.rows import ScheduleRow
from backend.schedules.schemas import (
    FireList,
    NextTimes,
    Schedule,
    ScheduleCreate,
    ScheduleList,
    ScheduleUpdate,
)
from backend.workflows import queries as workflows

router = APIRouter(prefix="/schedules", tags=["schedules"])

NOT_FOUND = "No such schedule (or workflow) in this workspace"
ERRORS = errors(not_found=NOT_FOUND)
WRITE_ERRORS = errors(
    not_found=NOT_FOUND,
    conflict="The workflow already has a schedule of this name",
    invalid="A field is invalid (cron, timezone, input_payload against the workflow's schema...)",
)


def _out(row: ScheduleRow) -> dict[str, Any]:
    body = dataclasses.asdict(row)
    body["next_due_at"] = row.next_due_at if row.enabled else None
    return body


@router.post("", status_code=http.HTTP_201_CREATED, response_model=Schedule, responses=WRITE_ERRORS)
def create_schedule(body: ScheduleCreate, principal: Operator) -> dict[str, Any]:
    with transaction() as conn:
        row = service.create_schedule(conn, principal.workspace_id, body)
        _audit(conn, principal, "schedule.create", row)
    return _out(row)


@router.get("", response_model=ScheduleList, responses=ERRORS)
def list_schedules(
    principal: Viewer,
    workflow: Annotated[
        str | None, Query(min_length=1, max_length=100, description="The workflow's id or name")
    ] = None,
) -> dict[str, Any]:
    with transaction() as conn:
        workflow_id = (
            workflows.find_workflow(conn, principal.workspace_id, workflow).id if workflow else None
        )
        rows = queries.list_schedules(conn, principal.workspace_id, workflow_id)
    return {"items": [_out(r) for r in rows]}


@router.get("/{schedule_id}", response_model=Schedule, responses=ERRORS)
def get_schedule(schedule_id: uuid.UUID, principal: Viewer) -> dict[str, Any]:
    with transaction() as conn:
        return _out(queries.get_schedule(conn, principal.workspace_id, schedule_id))


@router.patch("/{schedule_id}", response_model=Schedule, responses=WRITE_ERRORS)
def update_schedule(
    schedule_id: uuid.UUID, body: ScheduleUpdate, principal: Operator
) -> dict[str, Any]:
    return _change(principal, schedule_id, body, "schedule.update")


@router.post("/{schedule_id}/pause", response_model=Schedule, responses=ERRORS)
def pause_schedule(schedule_id: uuid.UUID, principal: Operator) -> dict[str, Any]:
    return _change(principal, schedule_id, ScheduleUpdate(enabled=False), "schedule.pause")


@router.post("/{schedule_id}/resume", response_model=Schedule, responses=ERRORS)
def resume_schedule(schedule_id: uuid.UUID, principal: Operator) -> dict[str, Any]:
    """Enable again; due times that passed while paused are not caught up."""
    return _change(principal, schedule_id, ScheduleUpdate(enabled=True), "schedule.resume")


@router.delete("/{schedule_id}", status_code=http.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_schedule(schedule_id: uuid.UUID, principal: Operator) -> Response:
    """Delete the schedule and its fires; the jobs it started stay."""
    with transaction() as conn:
        row = service.delete_schedule(conn, principal.workspace_id, schedule_id)
        _audit(conn, principal, "schedule.delete", row)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.get("/{schedule_id}/next", response_model=NextTimes, responses=ERRORS)
def next_times(
    schedule_id: uuid.UUID,
    principal: Viewer,
    count: Annotated[int, Query(ge=1, le=100)] = 5,
) -> dict[str, Any]:
    with transaction() as conn:
        row, times = service.next_times(conn, principal.workspace_id, schedule_id, count)
    return {"schedule_id": row.id, "timezone": row.timezone, "times": times}


@router.get("/{schedule_id}/fires", response_model=FireList, responses=ERRORS)
def list_fires(
    schedule_id: uuid.UUID,
    principal: Viewer,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Due times newest first, each with its job (or why none started)."""
    with transaction() as conn:
        queries.get_schedule(conn, principal.workspace_id, schedule_id)
        rows = queries.list_fires(conn, principal.workspace_id, schedule_id, limit)
    return {"items": rows}


def _change(
    principal: Principal, schedule_id: uuid.UUID, body: ScheduleUpdate, action: str
) -> dict[str, Any]:
    with transaction() as conn:
        row = service.update_schedule(conn, principal.workspace_id, schedule_id, body)
        _audit(conn, principal, action, row, body.model_dump(exclude_unset=True, mode="json"))
    return _out(row)


def _audit(
    conn: Any,
    principal: Principal,
    action: str,
    row: ScheduleRow,
    data: dict[str, Any] | None = None,
) -> None:
    state = "enabled" if row.enabled else "paused"
    details = {"workflow": row.workflow_name, "name": row.name, **(data or {})}
    record_audit(conn, principal, action, "schedule", row.id, None, state, details)
