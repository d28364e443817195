"""The telemetry contract's route family, `/api/workflows/...`, beside `/api/v1`: the same
services, the contract's names. An execution is a job; `{workflow_id}` is the workflow's id
or its name. Authentication, roles and `X-Workspace-Id` / `X-Workspace-Slug` are those of
`/api/v1`; another workspace's execution or workflow is 404."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from fastapi import APIRouter

from backend.http.deps import Viewer, disclose, transaction
from backend.http.responses import errors
from backend.jobs import timeline
from backend.jobs.schemas import Timeline
from backend.workflows import api, queries
from backend.workflows.schemas import (
    SUCCESS_RATE,
    ExecutionDetail,
    ExecutionList,
    WorkflowMetricsSummary,
)

router = APIRouter(prefix="/workflows", tags=["telemetry"])

EXECUTION_ERRORS = errors(not_found="No such execution in this workspace")
WORKFLOW_ERRORS = errors(not_found="No such workflow in this workspace")


@router.get(
    "/executions/{execution_id}/timeline", response_model=Timeline, responses=EXECUTION_ERRORS
)
def execution_timeline(execution_id: uuid.UUID, principal: Viewer) -> dict[str, Any]:
    """WorkflowExecutionTimeline: per-step times, retry counts and input/output summaries
    (also `GET /api/v1/jobs/{id}/timeline`)."""
    with transaction() as conn:
        return disclose(principal, timeline.timeline(conn, principal.workspace_id, execution_id))


@router.get(
    "/executions/{execution_id}", response_model=ExecutionDetail, responses=EXECUTION_ERRORS
)
def execution_detail(execution_id: uuid.UUID, principal: Viewer) -> dict[str, Any]:
    """The execution with its step executions (full input and output data)."""
    with transaction() as conn:
        row = queries.execution(conn, principal.workspace_id, execution_id)
        steps = timeline.step_executions(conn, principal.workspace_id, execution_id)
    return disclose(principal, {**dataclasses.asdict(row), "step_executions": steps})


# the /api/v1 route functions themselves, at the contract's paths
router.add_api_route(
    "/{workflow_id}/metrics",
    api.workflow_metrics,
    response_model=WorkflowMetricsSummary,
    responses=WORKFLOW_ERRORS,
    description=f"WorkflowMetricsSummary plus p50/p95 and costs. success_rate: {SUCCESS_RATE}",
)
router.add_api_route(
    "/{workflow_id}/executions",
    api.workflow_executions,
    response_model=ExecutionList,
    responses=WORKFLOW_ERRORS,
)
