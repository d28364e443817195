"""Schedules: create, change, pause, resume, delete, and the next due times. Each takes the
caller's connection (the caller commits). The scheduler's side is backend/schedules/fire.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg

from backend.errors import Conflict, InvalidInput
from backend.schedules import queries
from backend.schedules.rows import ScheduleRow
from backend.schedules.schemas import ScheduleCreate, ScheduleUpdate
from backend.schedules.timing import Timing, jitter, next_after, upcoming
from backend.workflows import queries as workflows
from backend.workflows.input_schema import validate as validate_input


def create_schedule(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, spec: ScheduleCreate
) -> ScheduleRow:
    workflow = workflows.find_workflow(conn, workspace_id, spec.workflow)
    _check_input(conn, workspace_id, workflow.id, spec.input_payload)
    _check_name(conn, workflow.id, spec.name, None)
    now = queries.db_now(conn).replace(microsecond=0)  # interval due times on whole seconds
    values = spec.model_dump(exclude={"workflow"}, mode="json")
    timing = Timing(spec.cron, spec.interval_seconds, spec.timezone, now)
    due = next_after(timing, now)
    values |= {
        "id": uuid.uuid4(),
        "workspace_id": workspace_id,
        "workflow_id": workflow.id,
        "anchor_at": now,
        "next_due_at": due,
        "next_fire_at": due + jitter(spec.jitter_seconds),
    }
    schedule_id = queries.insert_schedule(conn, values)
    return queries.get_schedule(conn, workspace_id, schedule_id)


def update_schedule(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    schedule_id: uuid.UUID,
    change: ScheduleUpdate,
) -> ScheduleRow:
    """Apply the given fields. A change of timing, or a resume, starts counting from now:
    due times that passed while paused are not caught up."""
    current = queries.get_schedule(conn, workspace_id, schedule_id, lock=True)
    values = change.model_dump(exclude_unset=True, mode="json")
    if change.cron is not None:
        values["interval_seconds"] = None
    if change.interval_seconds is not None:
        values["cron"] = None
    if change.name is not None:
        _check_name(conn, current.workflow_id, change.name, current.id)
    if change.input_payload is not None:
        _check_input(conn, workspace_id, current.workflow_id, change.input_payload)
    timing_keys = {"cron", "interval_seconds", "timezone", "jitter_seconds"}
    resumed = values.get("enabled") is True and not current.enabled
    if resumed or timing_keys & set(values):
        now = queries.db_now(conn)
        timing = Timing(
            values.get("cron", current.cron),
            values.get("interval_seconds", current.interval_seconds),
            values.get("timezone", current.timezone),
            current.anchor_at,
        )
        due = next_after(timing, now)
        values["next_due_at"] = due
        values["next_fire_at"] = due + jitter(values.get("jitter_seconds", current.jitter_seconds))
    queries.update_schedule(conn, current.id, values)
    return queries.get_schedule(conn, workspace_id, current.id)


def delete_schedule(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, schedule_id: uuid.UUID
) -> ScheduleRow:
    current = queries.get_schedule(conn, workspace_id, schedule_id, lock=True)
    queries.delete_schedule(conn, current.id)
    return current


def next_times(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, schedule_id: uuid.UUID, count: int
) -> tuple[ScheduleRow, list[datetime]]:
    """The next `count` due times: from the stored next one, or for a paused schedule from
    now (when it would fire if resumed now)."""
    schedule = queries.get_schedule(conn, workspace_id, schedule_id)
    if not schedule.enabled:
        return schedule, upcoming(schedule.timing, queries.db_now(conn), count)
    later = upcoming(schedule.timing, schedule.next_due_at, count - 1)
    return schedule, [schedule.next_due_at, *later]


def _check_input(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, workflow_id: uuid.UUID, payload: Any
) -> None:
    version = workflows.latest_version(
        conn, workflows.find_workflow(conn, workspace_id, workflow_id)
    )
    problems = validate_input(version.input_schema, payload)
    if problems:
        raise InvalidInput("input_payload does not match the workflow's input schema", problems)


def _check_name(
    conn: psycopg.Connection[Any], workflow_id: uuid.UUID, name: str, other: uuid.UUID | None
) -> None:
    if queries.name_taken(conn, workflow_id, name, other):
        raise Conflict(
            f"the workflow already has a schedule named {name!r}",
            [{"loc": ["name"], "msg": "already used by another schedule of this workflow"}],
        )
