"""`GET /workflows/{workflow_id}/runs-grid`: the workflow page's runs grid (its last N runs as
columns, steps as rows, one status per cell)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from backend.http.deps import Viewer, transaction
from backend.http.responses import errors
from backend.runs.grid import DEFAULT_RUNS, MAX_RUNS, RunsGrid, runs_grid
from backend.workflows import queries as workflows

router = APIRouter(tags=["runs"])


class GridRunOut(BaseModel):
    job_id: uuid.UUID
    execution_number: int
    status: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class GridCellOut(BaseModel):
    job_id: uuid.UUID
    status: str = Field(description="The step's status in that run.")
    attempts: int
    duration_seconds: float | None


class GridStepOut(BaseModel):
    key: str
    name: str
    cells: list[GridCellOut | None] = Field(
        description="One per run, in `runs` order; null where that run has no such step."
    )


class RunsGridOut(BaseModel):
    workflow_id: uuid.UUID
    workflow_name: str
    runs: list[GridRunOut] = Field(description="Newest first.")
    steps: list[GridStepOut] = Field(
        description="In the newest run's order; steps only older runs have come after."
    )


@router.get(
    "/workflows/{workflow_id}/runs-grid",
    response_model=RunsGridOut,
    responses=errors(not_found="No such workflow in this workspace", invalid="Bad `runs`"),
)
def workflow_runs_grid(
    principal: Viewer,
    workflow_id: Annotated[
        str, Path(min_length=1, max_length=100, description="The workflow's id or name")
    ],
    runs: Annotated[
        int, Query(ge=1, le=MAX_RUNS, description=f"How many recent runs (1-{MAX_RUNS}).")
    ] = DEFAULT_RUNS,
) -> RunsGridOut:
    """The workflow's last `runs` runs (newest first) and each step's status in each: one
    indexed query."""
    with transaction() as conn:
        workflow = workflows.find_workflow(conn, principal.workspace_id, workflow_id)
        grid = runs_grid(conn, principal.workspace_id, workflow.id, runs)
    return _out(workflow.id, workflow.name, grid)


def _out(workflow_id: uuid.UUID, name: str, grid: RunsGrid) -> RunsGridOut:
    return RunsGridOut(
        workflow_id=workflow_id,
        workflow_name=name,
        runs=[GridRunOut.model_validate(r, from_attributes=True) for r in grid.runs],
        steps=[
            GridStepOut(
                key=s.key,
                name=s.name,
                cells=[
                    None if c is None else GridCellOut.model_validate(c, from_attributes=True)
                    for c in s.cells
                ],
            )
            for s in grid.steps
        ],
    )
