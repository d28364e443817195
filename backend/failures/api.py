"""The failure inbox: groups of failed runs, acknowledge / resolve / reopen / assign / note,
and a bulk re-run of a group's failed runs."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from backend.audit import record_audit
from backend.errors import JobmonitorError
from backend.failures import service
from backend.failures.schemas import (
    FailureCounts,
    FailureGroupDetail,
    FailureGroups,
    RerunGroup,
    RerunGroupResponse,
    RerunResult,
    UpdateGroup,
)
from backend.failures.service import GroupState
from backend.http.deps import Operator, Viewer, transaction
from backend.http.responses import errors
from backend.jobs.api import rerun
from backend.jobs.schemas import ErrorInfo, RerunRequest

router = APIRouter(prefix="/failures", tags=["failures"])

ERRORS = errors(not_found="No such failure group in this workspace")
Fingerprint = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The group's id")]


@router.get("", response_model=FailureGroups, responses=errors())
def list_failures(
    principal: Viewer,
    status: Annotated[GroupState | None, Query(description="Effective status")] = None,
) -> dict[str, Any]:
    """Failure groups, the most recent occurrence first."""
    with transaction() as conn:
        groups = service.list_groups(conn, principal.workspace_id, status)
        open_groups = service.count_open(conn, principal.workspace_id)
    return {"items": groups, "open": open_groups}


@router.get("/counts", response_model=FailureCounts, responses=errors())
def count_failures(principal: Viewer) -> dict[str, Any]:
    """Open groups (the nav badge)."""
    with transaction() as conn:
        return {"open": service.count_open(conn, principal.workspace_id)}


@router.get("/{fingerprint}", response_model=FailureGroupDetail, responses=ERRORS)
def get_failure(
    fingerprint: Fingerprint,
    principal: Viewer,
    limit: Annotated[int, Query(ge=1, le=service.MAX_OCCURRENCES)] = 100,
) -> dict[str, Any]:
    """One group with its failed runs, newest first."""
    with transaction() as conn:
        group = service.get_group(conn, principal.workspace_id, fingerprint)
        runs = service.occurrences(conn, principal.workspace_id, group, limit)
    return {**dataclasses.asdict(group), "occurrences": runs}


@router.patch("/{fingerprint}", response_model=FailureGroupDetail, responses=ERRORS)
def update_failure(fingerprint: Fingerprint, body: UpdateGroup, principal: Operator) -> Any:
    """Acknowledge, resolve or reopen (`state`), assign, or note a group."""
    changes = body.model_dump(exclude_unset=True)
    with transaction() as conn:
        before, after = service.update_group(conn, principal.workspace_id, fingerprint, changes)
        record_audit(
            conn,
            principal,
            "failure.update",
            "failure_group",
            fingerprint,
            before.status,
            after.status,
            {k: str(v) if v is not None else None for k, v in changes.items()},
        )
        runs = service.occurrences(conn, principal.workspace_id, after)
    return {**dataclasses.asdict(after), "occurrences": runs}


@router.post("/{fingerprint}/rerun", response_model=RerunGroupResponse, responses=ERRORS)
def rerun_failures(
    fingerprint: Fingerprint, principal: Operator, body: RerunGroup | None = None
) -> dict[str, Any]:
    """Re-run each failed run of the group that has not been re-run yet (by default on the
    workflow's latest version: "retry all 37 with the fix"); each succeeds or fails alone."""
    latest = (body or RerunGroup()).latest_version
    with transaction() as conn:
        job_ids = service.runs_to_rerun(conn, principal.workspace_id, fingerprint)
    results = []
    for job_id in job_ids:
        try:
            job = rerun(principal, job_id, RerunRequest(latest_version=latest))
            results.append(RerunResult(job_id=job_id, ok=True, new_job_id=job.id))
        except JobmonitorError as exc:
            error = ErrorInfo(code=exc.code, message=exc.message)
            results.append(RerunResult(job_id=job_id, ok=False, error=error))
    ok = sum(1 for r in results if r.ok)
    return {"succeeded": ok, "failed": len(results) - ok, "results": results}
