"""The runs grid of a workflow's page (Airflow's grid): rows built from
`GET /workflows/{id}/runs-grid`, oldest run left and newest right (as in the duration chart),
each cell a step's status in one run, linking to that step of that run."""

from __future__ import annotations

from dataclasses import dataclass, field

from apiclient import ops_models as ops
from apiclient.format import duration_text
from jobmonitor import routes

GRID_SIZES = ["10", "25", "50", "100"]
DEFAULT_GRID_RUNS = 25


@dataclass
class GridColumn:
    job_id: str = ""
    label: str = ""  # "#12"
    status: str = ""
    href: str = ""
    title: str = ""


@dataclass
class GridCellView:
    status: str = ""  # "" when the run has no such step
    href: str = ""
    title: str = ""


@dataclass
class GridRowView:
    key: str = ""
    name: str = ""
    cells: list[GridCellView] = field(default_factory=list)


def grid_columns(grid: ops.RunsGrid) -> list[GridColumn]:
    return [
        GridColumn(
            job_id=r.job_id,
            label=f"#{r.execution_number}",
            status=r.status,
            href=routes.job(r.job_id),
            title=f"Run #{r.execution_number}: {r.status}, created {r.created_at:%Y-%m-%d %H:%M:%S}",
        )
        for r in reversed(grid.runs)
    ]


def grid_rows(grid: ops.RunsGrid) -> list[GridRowView]:
    numbers = [r.execution_number for r in grid.runs]
    return [
        GridRowView(
            key=s.key,
            name=s.name,
            cells=[
                _cell(s, cell, n) for cell, n in reversed(list(zip(s.cells, numbers, strict=True)))
            ],
        )
        for s in grid.steps
    ]


def _cell(step: ops.GridStep, cell: ops.GridCell | None, number: int) -> GridCellView:
    if cell is None:
        return GridCellView(title=f"{step.name}: not in run #{number}")
    extra = [duration_text(cell.duration_seconds)] if cell.duration_seconds is not None else []
    if cell.attempts > 1:
        extra.append(f"{cell.attempts} attempts")
    return GridCellView(
        status=cell.status,
        href=routes.job_step(cell.job_id, step.key),
        title=f"{step.name} in run #{number}: {cell.status}"
        + (f" ({', '.join(extra)})" if extra else ""),
    )
