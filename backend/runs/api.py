"""Runs: the run history (`GET /runs`, seed 004's "query execution history"), one run's audit
record and report, and a workflow's pre-flight report."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from backend.http.deps import Operator, Viewer, api_redis, transaction
from backend.http.responses import errors
from backend.jobs.states import JobStatus
from backend.runs import queries
from backend.runs.modes import RunMode
from backend.runs.preflight import WAITING_TOO_LONG, preflight
from backend.runs.rows import RunFilter, RunRow
from backend.runs.schemas import Preflight, RunPage, RunReport
from backend.workflows import queries as workflows

router = APIRouter(tags=["runs"])
ERRORS = errors(not_found="No such job or workflow in this workspace")


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.get("/runs", response_model=RunPage, responses=ERRORS)
def list_runs(
    principal: Viewer,
    workflow: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Workflow id or name.")
    ] = None,
    status: Annotated[
        list[JobStatus] | None, Query(description="Repeat for several statuses.")
    ] = None,
    requested_by: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Part of the requester.")
    ] = None,
    mode: RunMode | None = None,
    since: Annotated[datetime | None, Query(description="Created at or after.")] = None,
    until: Annotated[datetime | None, Query(description="Created before.")] = None,
    execution_number: Annotated[
        int | None, Query(ge=1, description="The run's number within its workflow.")
    ] = None,
    skip: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Runs newest first, each with its requester, mode, before, expected, after and delta."""
    with transaction() as conn:
        workflow_id = (
            workflows.find_workflow(conn, principal.workspace_id, workflow).id if workflow else None
        )
        where = RunFilter(
            workflow_id=workflow_id,
            statuses=tuple(str(s) for s in status or ()),
            requested_by=requested_by,
            mode=str(mode) if mode else None,
            since=_utc(since),
            until=_utc(until),
            execution_number=execution_number,
        )
        rows = queries.list_runs(conn, principal.workspace_id, where, skip, limit)
    return {
        "items": [_run(r) for r in rows[:limit]],
        "skip": skip,
        "limit": limit,
        "has_more": len(rows) > limit,
    }


@router.get("/runs/{job_id}/report", response_model=RunReport, responses=ERRORS)
def run_report(job_id: uuid.UUID, principal: Viewer) -> dict[str, Any]:
    """One run's audit record, its attempts per status and its errors (the run log)."""
    with transaction() as conn:
        run = queries.get_run(conn, principal.workspace_id, job_id)
        return {
            "run": _run(run),
            "attempts": queries.attempt_counts(conn, job_id),
            "issues": queries.run_issues(conn, job_id),
        }


@router.get("/workflows/{workflow_id}/preflight", response_model=Preflight, responses=ERRORS)
def workflow_preflight(
    principal: Operator,
    workflow_id: Annotated[
        str, Path(min_length=1, max_length=100, description="The workflow's id or name")
    ],
    waiting_after: Annotated[
        float,
        Query(gt=0, le=86400, description="Seconds a pending job may wait before it is stuck."),
    ] = WAITING_TOO_LONG,
) -> dict[str, Any]:
    """Before a run: the snapshot now, the expected work, whether a start would be refused,
    stuck work, the workers on the queue and recent failures. A failing check is part of the
    report (200), not an error."""
    with transaction() as conn:
        return preflight(conn, api_redis(), principal.workspace_id, workflow_id, waiting_after)


def _run(row: RunRow) -> dict[str, Any]:
    return dataclasses.asdict(row)
