"""The status contract's views of a job, shared by every route family that serves them
(`/api/v1/jobs/{id}/status|results` and seed 000's `/api/workflow/jobs/{id}/...`): the
stepper, and a step's output items paged."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from backend.jobs import queries
from backend.jobs.rows import JobRow, StepProgress
from backend.jobs.states import S

# a step a job is at: the first of these in step order is its current step
_CURRENT = frozenset({S.RUNNING, S.QUEUED, S.RETRYING, S.WAITING})


def items_of(output: Any) -> list[Any] | None:
    """The items a step's output holds: the output itself when it is a list, else its
    `items` list; None when it holds none."""
    if isinstance(output, list):
        return output
    if isinstance(output, dict) and isinstance(output.get("items"), list):
        return output["items"]
    return None


def status_view(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    payloads: bool = False,
) -> tuple[JobRow, list[StepProgress]]:
    """The job and its steps' statuses in order; NotFound."""
    job = queries.get_job(conn, job_id, workspace_id=workspace_id, payloads=payloads)
    return job, queries.step_progress(conn, workspace_id, job_id)


def current_step_key(steps: list[StepProgress]) -> str | None:
    return next((s.step_key for s in steps if s.status in _CURRENT), None)


def stepper(steps: list[StepProgress]) -> list[dict[str, Any]]:
    return [
        {"step": s.step_key, "name": s.name, "status": s.status, "progress": s.progress}
        for s in steps
    ]


def results_page(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    step: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """A step's output items, paged: a list output, or the `items` list of an object output,
    page by page; any other output is one item."""
    output = queries.step_output(conn, workspace_id, job_id, step)
    data = output.output_data
    items = items_of(data)
    if items is None:
        items = [] if data is None else [data]
    return {
        "success": True,
        "job_id": job_id,
        "step": output.step_key,
        "items": items[offset : offset + limit],
        "total": len(items),
        "limit": limit,
        "offset": offset,
    }
