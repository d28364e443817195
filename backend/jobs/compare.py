"""Compare two runs: the input diff, each step side by side (matched by key, so runs of
different workflow versions compare too), and the first step where they diverge. Payloads are
redacted before they are compared, so a diff never shows a secret."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

from backend.jobs import queries
from backend.jobs.export import redact
from backend.jobs.jsondiff import diff
from backend.jobs.rows import JobRow, StepRow


@dataclass(frozen=True)
class _Side:
    job: JobRow
    steps: dict[str, StepRow]
    metrics: dict[str, dict[str, tuple[float, str | None]]]


def compare_jobs(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, a: uuid.UUID, b: uuid.UUID
) -> dict[str, Any]:
    """Job `a` against job `b` (NotFound when either is not in the workspace)."""
    left, right = _side(conn, workspace_id, a), _side(conn, workspace_id, b)
    inputs = diff(redact(left.job.input_payload), redact(right.job.input_payload))
    outputs = diff(redact(left.job.output_payload), redact(right.job.output_payload))
    steps = [_step(key, left, right) for key in _keys(left, right)]
    first = next((s for s in steps if not s["same"]), None)
    return {
        "a": _summary(left.job),
        "b": _summary(right.job),
        "same_version": left.job.workflow_version_id == right.job.workflow_version_id,
        "input_diff": inputs.changes,
        "input_diff_truncated": inputs.truncated,
        "output_diff": outputs.changes,
        "output_diff_truncated": outputs.truncated,
        "steps": steps,
        "first_divergence": first["step_key"] if first else None,
        "summary": _sentence(steps, first),
    }


def _side(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID) -> _Side:
    job = queries.get_job(conn, job_id, workspace_id=workspace_id)
    steps = {s.step_key: s for s in queries.list_steps(conn, workspace_id, job_id)}
    return _Side(job, steps, _metrics(conn, job_id))


def _metrics(
    conn: psycopg.Connection[Any], job_id: uuid.UUID
) -> dict[str, dict[str, tuple[float, str | None]]]:
    """Each step's metrics, the latest value of each name (the attempt that counted)."""
    by_step: dict[str, dict[str, tuple[float, str | None]]] = defaultdict(dict)
    rows = conn.execute(
        """
        SELECT DISTINCT ON (s.step_key, m.name) s.step_key, m.name, m.value, m.unit
        FROM step_metrics m JOIN job_steps s ON s.id = m.step_id
        WHERE m.job_id = %s ORDER BY s.step_key, m.name, m.id DESC
        """,
        (job_id,),
    )
    for r in rows:
        by_step[r["step_key"]][r["name"]] = (float(r["value"]), r["unit"])
    return by_step


def _keys(left: _Side, right: _Side) -> list[str]:
    """Step keys in A's order, then B's new ones in B's order."""
    return [*left.steps, *(k for k in right.steps if k not in left.steps)]


def _summary(job: JobRow) -> dict[str, Any]:
    return {
        "id": job.id,
        "workflow_name": job.workflow_name,
        "workflow_version": job.workflow_version,
        "status": job.status,
        "created_at": job.created_at,
        "duration_seconds": job.duration_seconds,
        "total_cost": job.total_cost,
        "error_message": job.error_message,
    }


def _step(key: str, left: _Side, right: _Side) -> dict[str, Any]:
    a, b = left.steps.get(key), right.steps.get(key)
    presence = "both" if a and b else ("only_a" if a else "only_b")
    outputs = diff(redact(a.output_data), redact(b.output_data)) if a and b else None
    same = bool(a and b and a.status == b.status and outputs and not outputs.changes)
    either = a or b
    return {
        "step_key": key,
        "name": either.name if either else key,
        "presence": presence,
        "a": _step_side(a),
        "b": _step_side(b),
        "duration_delta": _delta(
            a.duration_seconds if a else None, b.duration_seconds if b else None
        ),
        "cost_delta": _delta(a.cost_usd if a else None, b.cost_usd if b else None),
        "metrics": _metric_deltas(left.metrics.get(key, {}), right.metrics.get(key, {})),
        "output_equal": None if outputs is None else not outputs.changes,
        "output_diff": outputs.changes if outputs else [],
        "output_diff_truncated": bool(outputs and outputs.truncated),
        "same": same,
    }


def _step_side(s: StepRow | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "status": s.status,
        "attempts": s.attempt_number,
        "duration_seconds": s.duration_seconds,
        "cost_usd": s.cost_usd,
        "error_type": s.error_type,
        "error_message": s.error_message,
        "reused_from_job_id": s.reused_from_job_id,
    }


def _delta(a: float | Decimal | None, b: float | Decimal | None) -> float | None:
    return None if a is None or b is None else float(b) - float(a)


def _metric_deltas(
    a: dict[str, tuple[float, str | None]], b: dict[str, tuple[float, str | None]]
) -> list[dict[str, Any]]:
    names = [*a, *(n for n in b if n not in a)]
    return [
        {
            "name": n,
            "unit": (a.get(n) or b.get(n) or (0.0, None))[1],
            "a": a[n][0] if n in a else None,
            "b": b[n][0] if n in b else None,
            "delta": b[n][0] - a[n][0] if n in a and n in b else None,
        }
        for n in names
    ]


def _sentence(steps: list[dict[str, Any]], first: dict[str, Any] | None) -> str:
    if first is None:
        return "every step has the same status and output"
    index = steps.index(first)
    why = {"only_a": "only in A", "only_b": "only in B"}.get(first["presence"])
    if why is None:
        status_same = first["a"]["status"] == first["b"]["status"]
        why = "outputs differ" if status_same else "statuses differ"
    if index == 0:
        return f"runs differ from the first step `{first['step_key']}` ({why})"
    return (
        f"outputs equal up to `{steps[index - 1]['step_key']}`; "
        f"differ from `{first['step_key']}` ({why})"
    )
