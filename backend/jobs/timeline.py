"""A job seen as a telemetry execution: its timeline (`WorkflowExecutionTimeline`, with a
truncated summary of each step's input and output) and its step executions (the full data).
One service for both route families: `/api/v1/jobs/{id}/timeline` and
`/api/workflows/executions/{id}[/timeline]`."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg

from backend.jobs import queries
from backend.jobs.rows import StepRow
from backend.jobs.states import S

SUMMARY_LIMIT = 1000  # bytes of JSON a summary carries whole
FIRST_KEYS = 20
FIRST_ITEMS = 3
ITEM_LIMIT = 120  # bytes of JSON a shortened item keeps


def summary(value: Any, ran: bool) -> dict[str, Any] | None:
    """Small data whole; large data as its size, top-level keys or length, and first items
    shortened. {} for a step that ran without this data, None for one that never ran."""
    if value is None:
        return {} if ran else None
    text = json.dumps(value, default=str)
    if len(text) <= SUMMARY_LIMIT:
        return value if isinstance(value, dict) else {"value": value}
    out: dict[str, Any] = {"truncated": True, "size_bytes": len(text.encode())}
    if isinstance(value, dict):
        out["key_count"] = len(value)
        out["keys"] = list(value)[:FIRST_KEYS]
        out["first_items"] = {k: _short(v) for k, v in list(value.items())[:FIRST_ITEMS]}
    elif isinstance(value, list):
        out["length"] = len(value)
        out["first_items"] = [_short(v) for v in value[:FIRST_ITEMS]]
    else:
        out["first_items"] = _short(value)
    return out


def _short(value: Any) -> Any:
    """An item as is when small; else its type and size (and a string's start)."""
    text = json.dumps(value, default=str)
    if len(text) <= ITEM_LIMIT:
        return value
    if isinstance(value, str):
        return value[:ITEM_LIMIT] + "…"
    kind = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else "value"
    return {"type": kind, "size_bytes": len(text.encode())}


def timeline(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID
) -> dict[str, Any]:
    """The job's WorkflowExecutionTimeline (NotFound for another workspace's job)."""
    job = queries.get_job(conn, job_id, workspace_id=workspace_id, payloads=False)
    steps = queries.list_steps(conn, workspace_id, job_id)

    def count(*statuses: str) -> int:
        return sum(1 for s in steps if s.status in statuses)

    return {
        "execution_id": job.id,
        "workflow_id": job.workflow_id,
        "workflow_name": job.workflow_name,
        "status": job.status,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "total_duration_seconds": job.duration_seconds,
        "step_count": len(steps),
        "completed_step_count": count(S.COMPLETED),
        "failed_step_count": count(S.FAILED, S.TIMED_OUT),
        "skipped_step_count": count(S.SKIPPED),
        "step_timeline": [_timeline_entry(s) for s in steps],
        "error_message": job.error_message,
    }


def _timeline_entry(s: StepRow) -> dict[str, Any]:
    ran = s.started_at is not None
    return {
        "step_id": s.step_id,
        "step_key": s.step_key,
        "step_name": s.name,
        "step_order": s.step_index,
        "status": s.status,
        "started_at": s.started_at,
        "completed_at": s.completed_at,
        "duration_seconds": s.duration_seconds,
        "retry_count": s.retry_count,
        "error_message": s.error_message,
        "input_summary": summary(s.input_data, ran),
        "output_summary": summary(s.output_data, ran),
    }


def step_executions(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Each step of the job as a step execution, with its full input and output."""
    return [
        {
            "id": s.id,
            "execution_id": s.job_id,
            "step_id": s.step_id,
            "step_key": s.step_key,
            "step_name": s.name,
            "step_index": s.step_index,
            "status": s.status,
            "started_at": s.started_at,
            "completed_at": s.completed_at,
            "duration": s.duration_seconds,
            "retry_count": s.retry_count,
            "attempt_number": s.attempt_number,
            "input_data": s.input_data,
            "output_data": s.output_data,
            "error_message": s.error_message,
        }
        for s in queries.list_steps(conn, workspace_id, job_id)
    ]
