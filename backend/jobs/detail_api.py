"""One job's insides: steps, each step's attempts, logs, the telemetry timeline, status and
results (the status contract's shapes), and the redacted JSON export."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from backend.errors import InvalidInput
from backend.http.deps import Operator, Viewer, disclose, transaction
from backend.jobs import compare, export, queries, timeline, views
from backend.jobs.api import ERRORS, TRANSITION_ERRORS, rerun
from backend.jobs.schemas import (
    Comparison,
    Job,
    JobLogs,
    JobResults,
    JobStatusResponse,
    JobSteps,
    LogLevel,
    RerunRequest,
    StepAttempts,
    StepRerunRequest,
    Timeline,
)

router = APIRouter(prefix="/jobs", tags=["jobs"])

StepKey = Annotated[str, Path(min_length=1, max_length=100, description="The step's key")]


@router.get("/{job_id}/steps", response_model=JobSteps, responses=ERRORS)
def job_steps(job_id: uuid.UUID, principal: Viewer) -> dict[str, Any]:
    """The job matrix's JobStepsResponse, in execution order."""
    with transaction() as conn:
        steps = queries.list_steps(conn, principal.workspace_id, job_id)
    return {"job_id": job_id, "steps": disclose(principal, steps)}


@router.get("/{job_id}/steps/{step}/attempts", response_model=StepAttempts, responses=ERRORS)
def step_attempts(job_id: uuid.UUID, step: StepKey, principal: Viewer) -> dict[str, Any]:
    """The retry history of one step: every attempt with its worker, times, error and cost."""
    with transaction() as conn:
        s, attempts = queries.step_attempts(conn, principal.workspace_id, job_id, step)
    attempts = disclose(principal, attempts)
    return {
        "job_id": job_id,
        "step_id": s.step_key,
        "step_name": s.name,
        "status": s.status,
        "attempts": attempts,
    }


@router.get("/{job_id}/logs", response_model=JobLogs, responses=ERRORS)
def job_logs(
    job_id: uuid.UUID,
    principal: Viewer,
    step: Annotated[
        str | None, Query(min_length=1, max_length=100, description="A step key")
    ] = None,
    attempt: Annotated[int | None, Query(ge=1, le=100_000, description="An attempt number")] = None,
    level: Annotated[LogLevel | None, Query(description="Minimum level")] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=20, pattern=r"^[0-9]+$", description="next_cursor of the previous read"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Log lines oldest first. Keep passing `next_cursor` to follow a running job."""
    after = int(cursor) if cursor else 0
    if after > 2**62:
        raise InvalidInput(
            "cursor out of range", [{"loc": ["query", "cursor"], "msg": "out of range"}]
        )
    with transaction() as conn:
        lines, more = queries.job_logs(
            conn,
            principal.workspace_id,
            job_id,
            step=step,
            attempt=attempt,
            min_level=level.value if level else None,
            after_id=after,
            limit=limit,
        )
    next_cursor = str(lines[-1].id) if lines else (cursor or None)
    return {
        "job_id": job_id,
        "items": disclose(principal, lines),
        "next_cursor": next_cursor,
        "has_more": more,
    }


@router.get("/{job_id}/timeline", response_model=Timeline, responses=ERRORS)
def job_timeline(job_id: uuid.UUID, principal: Viewer) -> dict[str, Any]:
    """The telemetry WorkflowExecutionTimeline of the job."""
    with transaction() as conn:
        return disclose(principal, timeline.timeline(conn, principal.workspace_id, job_id))


@router.get("/{job_id}/status", response_model=JobStatusResponse, responses=ERRORS)
def job_status(job_id: uuid.UUID, principal: Viewer) -> dict[str, Any]:
    """The status contract's shape; an unknown job is a 404 (not a synthetic failed job)."""
    with transaction() as conn:
        job, steps = views.status_view(conn, principal.workspace_id, job_id)
    return {
        "success": True,
        "job": {
            "job_id": job.id,
            "status": job.status,
            "current_step": job.current_step,
            "progress": job.progress,
            "stepper": views.stepper(steps),
            "draft_state": job.draft_state,
            "waiting_for": job.waiting_for,
        },
    }


@router.get("/{job_id}/results", response_model=JobResults, responses=ERRORS)
def job_results(
    job_id: uuid.UUID,
    principal: Viewer,
    step: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="A step key (default: the last step)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """The status contract's results: a step's output items, paged (a list output, or the
    `items` list of an object output; any other output is one item)."""
    with transaction() as conn:
        page = views.results_page(conn, principal.workspace_id, job_id, step, limit, offset)
    return disclose(principal, page)


@router.get(
    "/{job_id}/export",
    response_class=Response,
    responses={
        **ERRORS,
        200: {"content": {"application/json": {}}, "description": "The job as one JSON download"},
    },
)
def job_export(job_id: uuid.UUID, principal: Viewer) -> Response:
    """Everything recorded about the job as a download, with secrets redacted."""
    with transaction() as conn:
        document = export.export_job(conn, principal.workspace_id, job_id)
    return Response(
        export.dumps(document),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="job-{job_id}.json"'},
    )


@router.get("/{job_id}/compare/{other_id}", response_model=Comparison, responses=ERRORS)
def compare_jobs(job_id: uuid.UUID, other_id: uuid.UUID, principal: Viewer) -> dict[str, Any]:
    """Run A (`job_id`) against run B: input diff, each step side by side with its deltas and
    output diff, and the first step where they diverge (steps matched by key)."""
    with transaction() as conn:
        return compare.compare_jobs(conn, principal.workspace_id, job_id, other_id)


@router.post(
    "/{job_id}/steps/{step}/rerun",
    status_code=201,
    response_model=Job,
    responses=TRANSITION_ERRORS,
)
def rerun_step(
    job_id: uuid.UUID, step: StepKey, principal: Operator, body: StepRerunRequest | None = None
) -> Any:
    """Run this step again (and what depends on it) in a new linked job, reusing the rest."""
    patch = body.input_patch if body else None
    return rerun(principal, job_id, RerunRequest(from_step=step, input_patch=patch))
