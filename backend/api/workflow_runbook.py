"""Seed 000's routes, exactly (the "Workflow v2 Job Monitoring Runbook"): `/api/workflow/...`.

A thin translation onto the services `/api/v1` uses (same auth, workspace scoping, validation,
idempotency, audit and error table): names and shapes only. Differences the seed asks for:
- job statuses in the seed's vocabulary (`pending` is `queued` until the first step starts);
- `current_step` and `stepper[].step` are step keys;
- an unknown job on `GET .../status` answers a synthetic failed job (HTTP 200,
  `success: false`); every other route keeps the 404;
- `results` defaults to the `analytics` step;
- proposals are the items of the job's open review gate (`proposals/bulk` decides them,
  `proposals/{id}/ontology` patches their `ontology` field).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi import status as http
from pydantic import Field, field_validator

from backend.errors import NotFound
from backend.http.deps import Operator, Viewer, disclose, transaction
from backend.http.responses import errors
from backend.jobs import queries, views
from backend.jobs.api import NOT_FOUND, IdempotencyKeyHeader, one_idempotency_key, start_job
from backend.jobs.rows import JobRow, StepProgress
from backend.jobs.schemas import (
    IDEMPOTENCY_KEY,
    METADATA,
    CreateJobRequest,
    Request,
    check_metadata,
)
from backend.jobs.states import JobStatus
from backend.reviews import api as human
from backend.reviews.schemas import ExecuteStepRequest, SeedBulkRequest

router = APIRouter(prefix="/api/workflow", tags=["seed 000: workflow runbook"])

ERRORS = errors(not_found=NOT_FOUND)
DEFAULT_RESULTS_STEP = "analytics"


class CreateWorkflowJob(Request):
    """The runbook's create body (`input_payload` optional)."""

    workflow: str = Field(min_length=1, max_length=100, description="The workflow's name.")
    idempotency_key: str | None = IDEMPOTENCY_KEY
    metadata: dict[str, Any] | None = METADATA
    input_payload: dict[str, Any] | None = None

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_metadata(value)


def seed_status(status: str) -> str:
    """The seed's job status vocabulary: queued|running|completed|failed|cancelled."""
    return "queued" if status == JobStatus.PENDING else status


def _job(job: JobRow, steps: list[StepProgress]) -> dict[str, Any]:
    return {
        "job_id": str(job.id),
        "status": seed_status(job.status),
        "workflow": job.workflow_name,
        "metadata": job.metadata or {},
        "current_step": views.current_step_key(steps),
        "progress": job.progress,
        "draft_state": job.draft_state,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "error": job.error_message,
    }


@router.post(
    "/jobs",
    status_code=http.HTTP_201_CREATED,
    responses=errors(
        not_found=NOT_FOUND,
        conflict="Idempotency key used with another payload, or the concurrency policy refused",
        invalid="The body does not match (every field listed)",
    ),
)
def create_job(
    body: CreateWorkflowJob,
    response: Response,
    principal: Operator,
    idempotency_key: IdempotencyKeyHeader = None,
) -> dict[str, Any]:
    """Create a workflow job: `{"success": true, "job": {...}}` (200 on an idempotent replay)."""
    key = one_idempotency_key(idempotency_key, body.idempotency_key)
    request = CreateJobRequest(
        workflow=body.workflow,
        input_payload=body.input_payload,
        idempotency_key=key,
        metadata=body.metadata,
    )
    job, replayed = start_job(principal, request, key)
    if replayed:
        response.status_code = http.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    with transaction() as conn:
        steps = queries.step_progress(conn, principal.workspace_id, job.id)
    return disclose(principal, {"success": True, "job": _job(job, steps)})


@router.get("/jobs/{job_id}/status")
def job_status(job_id: Annotated[str, Path(max_length=100)], principal: Viewer) -> dict[str, Any]:
    """The job's status and stepper; an unknown job is a synthetic failed job (HTTP 200)."""
    try:
        with transaction() as conn:
            job, steps = views.status_view(
                conn, principal.workspace_id, uuid.UUID(job_id), payloads=True
            )
    except (ValueError, NotFound):
        return _synthetic_failed(job_id)
    stepper = [{**s, "step_name": s["name"]} for s in views.stepper(steps)]
    return disclose(principal, {"success": True, "job": {**_job(job, steps), "stepper": stepper}})


def _synthetic_failed(job_id: str) -> dict[str, Any]:
    message = f"job {job_id} not found"
    return {
        "success": False,
        "error": message,
        "job": {
            "job_id": job_id,
            "status": "failed",
            "workflow": None,
            "metadata": {},
            "current_step": None,
            "progress": 0.0,
            "draft_state": "none",
            "stepper": [],
            "error": message,
        },
    }


@router.post(
    "/jobs/{job_id}/steps/{step_name}/execute",
    responses={**human.CONFLICT, 202: {"description": "The step is still running: poll status"}},
)
def execute_step(
    job_id: uuid.UUID,
    step_name: human.StepKey,
    body: ExecuteStepRequest,
    response: Response,
    principal: Operator,
    idempotency_key: IdempotencyKeyHeader = None,
    wait: human.Wait = human.DEFAULT_WAIT,
) -> dict[str, Any]:
    """Execute a manual step with `{idempotency_key, payload}` and wait for its result."""
    key = one_idempotency_key(idempotency_key, body.idempotency_key)
    code, result = human.execute_and_wait(principal, job_id, step_name, body.payload, key, wait)
    response.status_code = code
    return result


@router.get("/jobs/{job_id}/results", responses=ERRORS)
def job_results(
    job_id: uuid.UUID,
    principal: Viewer,
    step: Annotated[str, Query(min_length=1, max_length=100)] = DEFAULT_RESULTS_STEP,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """A step's output items, paged (`limit` 1..500, `offset` >= 0; default step analytics)."""
    with transaction() as conn:
        page = views.results_page(conn, principal.workspace_id, job_id, step, limit, offset)
    return disclose(principal, {**page, "job_id": str(job_id)})


@router.post("/jobs/{job_id}/proposals/bulk", responses=human.CONFLICT)
def proposals_bulk(job_id: uuid.UUID, body: SeedBulkRequest, principal: Operator) -> dict[str, Any]:
    """Approve or reject proposals of the open review: `{ids, action, note}`, a result per id."""
    return human.decide_items(principal, job_id, body.ids, body.action.value, body.note)


@router.patch("/jobs/{job_id}/proposals/{proposal_id}/ontology", responses=human.CONFLICT)
def patch_ontology(
    job_id: uuid.UUID,
    proposal_id: Annotated[str, Path(min_length=1, max_length=200)],
    ontology: dict[str, Any],
    principal: Operator,
) -> dict[str, Any]:
    """Patch one proposal's ontology fields (merged into its ontology; checked against the
    gate's schema for `ontology`)."""
    result = human.patch_fields(principal, job_id, proposal_id, {"ontology": ontology})
    return {**result, "proposal": result["item"]}
