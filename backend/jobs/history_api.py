"""A job's event history (`GET /jobs/{id}/events`) and all its attempts on one time axis
(`GET /jobs/{id}/attempts`): what the job page's Event history and Gantt tabs read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from backend.errors import InvalidInput
from backend.http.deps import Viewer, disclose, transaction
from backend.jobs import history
from backend.jobs.api import ERRORS

router = APIRouter(prefix="/jobs", tags=["jobs"])

MAX_CURSOR = 2**62


class HistoryEvent(BaseModel):
    id: int = Field(description="The event's id: events are in commit order of their ids.")
    type: str = Field(
        description="workflow_created, workflow_started, step_queued, step_started, step_failed,"
        " retrying, step_completed, cancelled, workflow_resumed, job_rerun, ..."
    )
    step_key: str | None
    step_name: str | None
    attempt_id: uuid.UUID | None
    attempt: int | None = Field(description="The attempt number, when the event names one.")
    from_status: str | None
    to_status: str | None
    actor: str | None = Field(
        description="Who asked for it (created, cancelled, resumed, re-run): the token."
    )
    created_at: datetime
    data: dict[str, Any] = Field(description="The event's details, secrets redacted.")


class JobEvents(BaseModel):
    job_id: uuid.UUID
    items: list[HistoryEvent]
    next_cursor: str | None = Field(description="Pass as `cursor` to read the events after these.")
    has_more: bool = Field(description="More events are stored after these (read again at once).")


class GanttAttempt(BaseModel):
    attempt_number: int
    status: str
    worker_name: str | None
    pid: int | None
    created_at: datetime = Field(description="When it was queued.")
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    error_type: str | None
    error_message: str | None


class GanttStep(BaseModel):
    step_key: str
    name: str
    step_index: int
    status: str
    next_attempt_at: datetime | None = Field(description="A retrying step's next try.")
    started_at: datetime | None
    completed_at: datetime | None
    attempts: list[GanttAttempt]


class JobAttempts(BaseModel):
    job_id: uuid.UUID
    now: datetime = Field(description="The database clock: where a running attempt ends for now.")
    steps: list[GanttStep]


@router.get("/{job_id}/events", response_model=JobEvents, responses=ERRORS)
def job_events(
    job_id: uuid.UUID,
    principal: Viewer,
    step: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Only this step's events")
    ] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=20, pattern=r"^[0-9]+$", description="next_cursor of the previous read"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """The job's event history oldest first: created, every status change of the job and its
    steps, each attempt's start, failure and retry, cancel / resume / re-run with who asked.
    Keep passing `next_cursor` to follow a running job. An unknown step is a 404."""
    after = int(cursor) if cursor else 0
    if after > MAX_CURSOR:
        raise InvalidInput(
            "cursor out of range", [{"loc": ["query", "cursor"], "msg": "out of range"}]
        )
    with transaction() as conn:
        page = history.job_events(
            conn, principal.workspace_id, job_id, step=step, after_id=after, limit=limit
        )
    return {
        "job_id": job_id,
        "items": page.items,
        "next_cursor": str(page.items[-1]["id"]) if page.items else (cursor or None),
        "has_more": page.has_more,
    }


@router.get("/{job_id}/attempts", response_model=JobAttempts, responses=ERRORS)
def job_attempts(job_id: uuid.UUID, principal: Viewer) -> dict[str, Any]:
    """Every step in order with all its attempts (times, worker, outcome): the Gantt's data."""
    with transaction() as conn:
        return disclose(principal, history.job_attempts(conn, principal.workspace_id, job_id))
