"""The runs grid, the duration chart's data, the workers page's rows and the pending reason:
pure view logic, and the pages that show them build."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apiclient import models as t
from apiclient import ops_models as ops
from backend.workers.service import pending_reason
from jobmonitor import routes
from jobmonitor.charts import duration_points
from jobmonitor.pages.workers import workers_page
from jobmonitor.pages.workflow_detail import workflow_detail_page
from jobmonitor.runs_grid import grid_columns, grid_rows
from jobmonitor.workers_view import worker_rows

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_pages_build() -> None:
    assert "Runs grid" in str(workflow_detail_page())
    code = str(workers_page())
    for text in ("Workers and queues", "Reaper recoveries", "Queues", "Heartbeat"):
        assert text in code


def _grid() -> ops.RunsGrid:
    runs = [
        ops.GridRun(job_id="new", execution_number=2, status="running", created_at=T0),
        ops.GridRun(job_id="old", execution_number=1, status="failed", created_at=T0),
    ]
    cell = ops.GridCell
    steps = [
        ops.GridStep(
            key="a",
            name="Fetch",
            cells=[cell(job_id="new", status="running"), cell(job_id="old", status="completed")],
        ),
        ops.GridStep(
            key="b",
            name="Load",
            cells=[None, cell(job_id="old", status="failed", attempts=3, duration_seconds=2)],
        ),
    ]
    return ops.RunsGrid(workflow_id="w", workflow_name="etl", runs=runs, steps=steps)


def test_grid_puts_the_newest_run_right_and_links_each_cell_to_its_step() -> None:
    grid = _grid()
    assert [c.label for c in grid_columns(grid)] == ["#1", "#2"]
    rows = grid_rows(grid)
    assert [c.status for c in rows[0].cells] == ["completed", "running"]
    assert rows[0].cells[1].href == "/jobs/new?step=a" == routes.job_step("new", "a")
    assert rows[1].cells[1].status == "" and rows[1].cells[1].href == ""
    assert rows[1].cells[0].title == "Load in run #1: failed (2.0s, 3 attempts)"


def test_duration_points_keep_each_job_under_its_status() -> None:
    executions = [
        t.Execution(
            id="b" * 8,
            status="timeout",
            execution_number=2,
            duration=4.567,
            created_at=T0 + timedelta(seconds=1),
        ),
        t.Execution(
            id="a" * 8, status="completed", execution_number=1, duration=1.0, created_at=T0
        ),
    ]
    first, second = duration_points(executions)
    assert first["run"] == "#1" and first["completed"] == 1.0 and first["failed"] is None
    assert second["run"] == "#2" and second["failed"] == 4.57 and second["completed"] is None


def test_pending_reason_says_what_the_job_waits_for() -> None:
    assert pending_reason("q", 2, 2, 3, 0) == "2 workers, both busy; 3 attempt(s) queued"
    assert pending_reason("q", 1, 1, 0, 0) == "1 worker, busy"
    assert pending_reason("q", 3, 3, 0, 0) == "3 workers, all busy"
    assert pending_reason("q", 0, 0, 1, 0).startswith("no worker listens on queue q")
    assert pending_reason("q", 0, 0, 1, 2) == "no worker on queue q yet: 2 starting"
    assert pending_reason("q", 2, 1, 0, 0).startswith("1 of 2 worker(s) idle")


def test_worker_rows_name_the_step_or_only_that_it_is_busy_elsewhere() -> None:
    current = ops.CurrentStep(
        attempt_id="x",
        job_id="j1",
        workflow_name="etl",
        step_key="load",
        attempt_number=2,
        started_at=T0,
    )
    w = ops.Workers(
        queue="q",
        workers=[
            ops.WorkerInfo(
                name="w1",
                hostname="h",
                pid=7,
                state="busy",
                current=current,
                heartbeat_age_seconds=75.0,
                started_at=T0,
            ),
            ops.WorkerInfo(name="w2", state="busy", busy_elsewhere=True),
        ],
        queues=[],
        reapers=[],
        dispatch=ops.Dispatch(queue="q", live=2, busy=2, depth=0, reason="2 workers, both busy"),
    )
    mine, other = worker_rows(w)
    assert mine.current == "etl: load (attempt 2)" and mine.current_href == "/jobs/j1?step=load"
    assert mine.heartbeat_late and mine.pid == "7" and mine.since == "2026-12-01T09:00:00Z"
    assert other.current == "busy (another workspace)" and other.current_href == ""
