"""Rows built from API resources, and live events applied to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from apiclient import models as t
from jobmonitor.viewmodels import (
    apply_to_job,
    apply_to_rows,
    apply_to_steps,
    attempt_row,
    job_info,
    job_row,
    log_row,
    payload_json,
    running_step,
    step_detail,
    step_rows,
)

T0 = datetime(2024, 11, 24, 10, 30, tzinfo=UTC)
JOB_ID = "123e4567-e89b-12d3-a456-426614174000"


def summary(**over: Any) -> t.JobSummary:
    base = {
        "id": JOB_ID,
        "workflow_id": "wf-1",
        "workflow_name": "basic_sequence",
        "status": "running",
        "step_count": 5,
        "steps_done": 2,
        "created_at": T0,
        "started_at": T0 + timedelta(seconds=5),
        "total_cost": 0.25,
    }
    return t.JobSummary.model_validate(base | over)


def step(
    key: str, index: int, status: str, start: int | None = None, end: int | None = None, **over: Any
) -> t.Step:
    return t.Step.model_validate(
        {
            "id": f"s{index}",
            "job_id": JOB_ID,
            "step_id": f"id-{key}",
            "step_key": key,
            "step_index": index,
            "name": key.title(),
            "status": status,
            "attempt_number": 1,
            "params": {"n": index},
            "depends_on": [],
            "started_at": None if start is None else T0 + timedelta(seconds=start),
            "completed_at": None if end is None else T0 + timedelta(seconds=end),
        }
        | over
    )


def labels(actions: list[Any]) -> list[str]:
    """What the browser shows for a list of JobActions."""
    return [a.label for a in actions]


def event(**over: Any) -> t.Event:
    return t.Event.model_validate({"id": 1, "job_id": JOB_ID, "type": "x"} | over)


def test_job_row_is_display_ready() -> None:
    row = job_row(summary(), now=T0 + timedelta(seconds=65))
    assert (row.short_id, row.workflow_name, row.status) == (
        "123e4567",
        "basic_sequence",
        "running",
    )
    assert row.duration == "1m 0s" and row.progress == "Step 3/5" and row.cost == "$0.25"
    assert labels(row.actions) == ["View", "Cancel"]
    assert row.started_at == "2024-11-24T10:30:05Z"


def test_job_info_shows_error_only_when_failed() -> None:
    failed = t.Job.model_validate(
        summary(status="failed", error_message="boom").model_dump()
        | {"input_payload": {"a": "<script>"}}
    )
    info = job_info(failed)
    assert info.error == "boom"
    assert labels(info.actions) == ["Resume", "Re-run"]
    assert '"a": "<script>"' in payload_json(failed.input_payload)
    assert payload_json(failed.output_payload) == ""
    cancelled = job_info(
        t.Job.model_validate(summary(status="cancelled", error_message="Cancelled").model_dump())
    )
    assert cancelled.error == ""


def test_steps_share_one_time_axis() -> None:
    now = T0 + timedelta(seconds=40)
    rows = step_rows(
        [step("c", 3, "pending"), step("a", 1, "completed", 0, 10), step("b", 2, "running", 10)],
        now,
    )
    assert [r.key for r in rows] == ["a", "b", "c"]
    assert (rows[0].bar_left, rows[0].bar_width) == (0.0, 25.0)
    assert (rows[1].bar_left, rows[1].bar_width) == (25.0, 75.0)
    assert not rows[2].bar_visible
    assert rows[1].duration == "30s"  # still running: counted to now
    assert running_step(rows) == "b"
    detail = step_detail(step("a", 1, "completed", 0, 10, depends_on=["x", "y"], action="do.it"))
    assert (detail.action, detail.depends_on, detail.params_json) == (
        "do.it",
        "x, y",
        '{\n  "n": 1\n}',
    )


def test_list_rows_follow_job_status_events() -> None:
    rows = [job_row(summary()), job_row(summary(id="other"))]
    changed = apply_to_rows(
        rows, event(to_status="completed", from_status="running", type="workflow_completed")
    )
    assert changed is not None
    assert changed[0].status == "completed" and labels(changed[0].actions) == ["View", "Re-run"]
    assert changed[1] is rows[1]
    assert apply_to_rows(rows, event(step_key="a", to_status="completed")) is None  # a step event
    assert apply_to_rows(rows, event(job_id="elsewhere", to_status="failed")) is None


def test_detail_follows_step_and_job_events() -> None:
    steps = step_rows([step("a", 1, "running", 0), step("b", 2, "pending")])
    moved = apply_to_steps(steps, event(step_key="a", to_status="completed"))
    assert moved is not None and [s.status for s in moved] == ["completed", "pending"]
    assert apply_to_steps(moved, event(step_key="a", to_status="completed")) is None
    assert apply_to_steps(steps, event(type="log", step_key="a")) is None
    info = job_info(t.Job.model_validate(summary().model_dump()))
    done = apply_to_job(info, event(to_status="completed"))
    assert done is not None and done.status == "completed" and labels(done.actions) == ["Re-run"]
    assert apply_to_job(info, event(to_status="running")) is None


def test_attempt_and_log_rows() -> None:
    attempt = t.Attempt.model_validate(
        {
            "id": "a1",
            "attempt_number": 2,
            "status": "failed",
            "worker_name": "w.1",
            "duration_seconds": 1.5,
            "error_type": "RuntimeError",
            "error_message": "planned",
            "cost_usd": 0.1,
            "costs": [{"kind": "llm", "model": "m", "tokens_in": 10, "tokens_out": 5}],
            "metrics": [{"name": "rows", "value": 200.0, "unit": "records"}],
        }
    )
    row = attempt_row(attempt)
    assert (row.number, row.error, row.duration, row.metrics) == (
        2,
        "RuntimeError: planned",
        "1.5s",
        "rows = 200 records; m: 10 in / 5 out",
    )
    line = log_row(t.LogLine(id=3, level="warning", message="<b>x</b>", created_at=T0))
    assert (line.time, line.level, line.message) == ("10:30:00.000", "WARNING", "<b>x</b>")


def test_workflow_rows_and_duration_bars() -> None:
    from jobmonitor.viewmodels import duration_bars, success_rate, workflow_row

    w = t.Workflow.model_validate(
        {
            "id": "w",
            "name": "etl",
            "step_count": 7,
            "execution_count": 7,
            "job_counts": {"completed": 3, "failed": 1, "cancelled": 1, "running": 2},
        }
    )
    row = workflow_row(w)
    assert (row.executions, row.running, row.success_rate) == (7, 2, "60.0%")
    assert success_rate({"running": 1}) is None
    executions = [
        t.Execution.model_validate(
            {
                "id": "b",
                "status": "failed",
                "duration": 1.0,
                "execution_number": 2,
                "created_at": T0 + timedelta(seconds=1),
            }
        ),
        t.Execution.model_validate(
            {
                "id": "a",
                "status": "completed",
                "duration": 4.0,
                "execution_number": 1,
                "created_at": T0,
            }
        ),
        t.Execution.model_validate(
            {
                "id": "c",
                "status": "running",
                "duration": None,
                "execution_number": 3,
                "created_at": T0 + timedelta(seconds=2),
            }
        ),
    ]
    bars = duration_bars(executions)
    assert [(b.job_id, b.height) for b in bars] == [("a", 100.0), ("b", 25.0), ("c", 1.0)]
    assert bars[0].label == "#1 completed: 4.0s"


def test_live_rows_keep_their_places_under_the_pointer() -> None:
    """Issue 19.6: a new job arriving must not move the row under the pointer."""
    from jobmonitor.viewmodels import keep_positions

    old, mid = job_row(summary(id="old")), job_row(summary(id="mid"))
    fresh = [
        job_row(summary(id="new")),
        job_row(summary(id="mid", status="completed")),
        job_row(summary(id="other")),
    ]
    rows, held = keep_positions([mid, old], fresh)
    assert [r.id for r in rows] == ["mid", "old"] and held == 2
    assert rows[0].status == "completed" and rows[1] is old
