"""Workflows: list, read (any version), register a definition or a new version, metrics and
the telemetry executions list. `{workflow_id}` is the workflow's id or its name."""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi import status as http

from backend.audit import record_audit
from backend.http.deps import Admin, Viewer, disclose, transaction
from backend.http.responses import errors
from backend.settings import get_settings
from backend.steps import load_step_modules
from backend.workflows import queries
from backend.workflows.definition import WorkflowDefinition
from backend.workflows.rows import WorkflowDetailRow, WorkflowMetricsRow
from backend.workflows.schemas import (
    SUCCESS_RATE,
    ExecutionList,
    ExecutionStatus,
    RegisteredWorkflow,
    WorkflowDetail,
    WorkflowList,
    WorkflowMetricsSummary,
)
from backend.workflows.service import register_workflow

log = logging.getLogger(__name__)
router = APIRouter(prefix="/workflows", tags=["workflows"])

ERRORS = errors(not_found="No such workflow in this workspace")
WorkflowRef = Annotated[
    str, Path(min_length=1, max_length=100, description="The workflow's id or name")
]

_modules_loaded = False
_modules_lock = threading.Lock()


def _actions_known() -> bool:
    """Import the configured step modules once, so registering can check action names. A
    module that cannot be imported in the API process disables the check (logged)."""
    global _modules_loaded
    with _modules_lock:
        if not _modules_loaded:
            try:
                load_step_modules(get_settings().step_modules)
                _modules_loaded = True
            except Exception as exc:  # an import error of user code must not break the API
                log.warning(
                    "step modules could not be imported; action names are not checked: %s", exc
                )
                return False
    return True


@router.get("", response_model=WorkflowList, responses=ERRORS)
def list_workflows(
    principal: Viewer,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Part of the name")
    ] = None,
    skip: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    with transaction() as conn:
        items, total = queries.list_workflows(conn, principal.workspace_id, q, skip, limit)
    return {"items": disclose(principal, items), "total": total, "skip": skip, "limit": limit}


@router.post(
    "",
    status_code=http.HTTP_201_CREATED,
    response_model=RegisteredWorkflow,
    responses={
        **errors(
            not_found="No such workflow in this workspace",
            invalid="Every problem of the definition, each with its path",
        ),
        200: {
            "model": RegisteredWorkflow,
            "description": "The same definition was already the latest version",
        },
    },
)
def register(
    definition: WorkflowDefinition, response: Response, principal: Admin
) -> dict[str, Any]:
    """Register a definition: a new workflow, or a new version when the definition changed."""
    check_actions = _actions_known()
    with transaction() as conn:
        done = register_workflow(
            conn, principal.workspace_id, definition.model_dump(mode="json"), check_actions
        )
        detail = queries.get_workflow(conn, principal.workspace_id, str(done.workflow_id))
        if done.created:
            record_audit(
                conn,
                principal,
                "workflow.register",
                "workflow",
                done.workflow_id,
                None,
                None,
                {"name": definition.name, "version": done.version},
            )
    if not done.created:
        response.status_code = http.HTTP_200_OK
    return {**dataclasses.asdict(detail), "created": done.created}


@router.get("/{workflow_id}", response_model=WorkflowDetail, responses=ERRORS)
def get_workflow(
    workflow_id: WorkflowRef,
    principal: Viewer,
    version: Annotated[
        int | None, Query(ge=1, le=1_000_000, description="Default: the latest")
    ] = None,
) -> WorkflowDetailRow:
    with transaction() as conn:
        return queries.get_workflow(conn, principal.workspace_id, workflow_id, version)


@router.get(
    "/{workflow_id}/metrics",
    response_model=WorkflowMetricsSummary,
    responses=ERRORS,
    description=f"The telemetry WorkflowMetricsSummary plus p50/p95 duration and cost totals. "
    f"success_rate: {SUCCESS_RATE}",
)
def workflow_metrics(
    workflow_id: WorkflowRef,
    principal: Viewer,
    window: Annotated[
        int, Query(ge=1, le=100_000, description="Newest executions the durations and costs cover")
    ] = 1000,
) -> WorkflowMetricsRow:
    with transaction() as conn:
        return queries.metrics(conn, principal.workspace_id, workflow_id, window)


@router.get("/{workflow_id}/executions", response_model=ExecutionList, responses=ERRORS)
def workflow_executions(
    workflow_id: WorkflowRef,
    principal: Viewer,
    skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    status: ExecutionStatus | None = None,
) -> dict[str, Any]:
    """The telemetry executions list, newest first."""
    with transaction() as conn:
        items, total = queries.executions(
            conn, principal.workspace_id, workflow_id, status.value if status else None, skip, limit
        )
    return {"items": disclose(principal, items), "total": total, "skip": skip, "limit": limit}
