"""The workflow page's runs grid (`GET /workflows/{id}/runs-grid`) and the workers page's
`GET /workers`: scoping, validation, the grid's shape and index use, worker and queue
figures from real rq worker registrations."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from rq import Worker
from rq.worker import WorkerStatus

from backend.db import connect
from backend.jobs import attempts, reaper
from backend.jobs.outbox import Outbox
from backend.queue import AttemptRef, redis_client, step_queue
from backend.runs.grid import GRID_SQL
from tests.api.conftest import World, error_of


def _grid(world: World, workflow: str, **params: Any) -> dict[str, Any]:
    response = world.a.viewer.get(f"/workflows/{workflow}/runs-grid", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_grid_has_the_last_n_runs_as_columns_and_the_steps_as_rows(world: World) -> None:
    done = [world.create("echo3") for _ in range(2)]
    for job in done:
        world.run(job)
    failed = world.create("broken")
    world.run(failed)
    pending = world.create("echo3")

    grid = _grid(world, "echo3", runs=2)
    assert [r["job_id"] for r in grid["runs"]] == [pending["id"], done[1]["id"]]
    assert [s["key"] for s in grid["steps"]] == ["a", "b", "c"]
    newest, older = zip(*(s["cells"] for s in grid["steps"]), strict=True)
    assert [c["status"] for c in older] == ["completed"] * 3
    assert all(c["job_id"] == done[1]["id"] for c in older)
    assert newest[0]["status"] in ("queued", "pending", "running", "completed")
    assert newest[1]["status"] == "pending" and newest[1]["attempts"] == 0

    assert len(_grid(world, "echo3")["runs"]) == 3  # default 25: all three
    broken = _grid(world, str(world.a.workflows["broken"]), runs=5)
    assert [s["key"] for s in broken["steps"]] == ["boom"]
    assert broken["steps"][0]["cells"][0]["status"] == "failed"
    assert broken["steps"][0]["cells"][0]["attempts"] == 1


def test_a_step_only_an_older_run_has_gets_an_empty_cell_in_newer_runs(world: World) -> None:
    old = world.create("echo3")
    world.run(old)
    response = world.a.admin.post(
        "/workflows", json={"name": "echo3", "steps": [{"key": "a", "action": "test.echo"}]}
    )
    assert response.status_code == 201, response.text  # version 2: one step
    new = world.create("echo3")
    world.run(new)
    grid = _grid(world, "echo3", runs=2)
    assert [s["key"] for s in grid["steps"]] == ["a", "b", "c"]
    by_key = {s["key"]: s["cells"] for s in grid["steps"]}
    assert by_key["b"][0] is None and by_key["b"][1]["status"] == "completed"


@pytest.mark.parametrize("runs", ["0", "101", "-1", "ten", "1.5"])
def test_grid_refuses_a_bad_run_count(world: World, runs: str) -> None:
    response = world.a.viewer.get("/workflows/echo3/runs-grid", params={"runs": runs})
    assert response.status_code == 422
    assert error_of(response)["code"]


def test_grid_is_scoped_to_the_workspace(world: World) -> None:
    world.run(world.create("echo3"))
    wf_id = world.a.workflows["echo3"]
    response = world.b.admin.get(f"/workflows/{wf_id}/runs-grid")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    # B's own workflow of the same name has no runs: A's never leak into it
    assert world.b.admin.get("/workflows/echo3/runs-grid").json()["runs"] == []
    assert world.anonymous.get(f"/workflows/{wf_id}/runs-grid").status_code == 401
    assert world.a.viewer.get("/workflows/nope/runs-grid").status_code == 404


def test_grid_query_uses_the_workflow_and_job_step_indexes(world: World) -> None:
    """The plan reads the newest jobs through an index in created_at order (the workflow's,
    ix_jobs_workflow_created, or the workspace's when the planner's statistics prefer it)
    and the steps through the unique (job_id, step_key) index: no scan of either table."""
    for _ in range(3):
        world.create("echo3")
    with connect(autocommit=False) as conn:
        conn.execute("SET LOCAL enable_seqscan = off")  # a tiny table is otherwise scanned
        plan = "\n".join(
            str(r["QUERY PLAN"])
            for r in conn.execute(
                "EXPLAIN " + GRID_SQL,
                {"wf": world.a.workflows["echo3"], "ws": world.a.id, "runs": 25},
            )
        )
        conn.rollback()
    lines = [re.sub(r"^->\s*", "", line.strip()) for line in plan.splitlines()]
    limit = next(i for i, line in enumerate(lines) if line.startswith("Limit"))
    # the newest N come out of a (workflow|workspace, created_at DESC, id DESC) index in
    # order: nothing sorts the workflow's whole history below the LIMIT
    assert re.match(r"Index Scan using ix_jobs_(workflow|ws)_created on jobs", lines[limit + 1])
    assert "Index Scan using uq_job_steps_job_key on job_steps" in plan, plan
    assert "Seq Scan" not in plan, plan


@pytest.fixture
def rq_worker(world: World) -> Any:
    """A registered rq worker on the step queue (as `jobmonitor worker` registers one),
    removed afterwards."""
    worker = Worker([step_queue()], connection=redis_client(), name=f"w-{uuid.uuid4().hex[:6]}")
    worker.register_birth()
    worker.heartbeat()
    yield worker
    worker.register_death()


def test_workers_lists_a_live_worker_with_its_heartbeat_and_current_step(
    world: World, rq_worker: Worker
) -> None:
    job = world.create("echo3")
    attempt = world.engine.attempts(uuid.UUID(job["id"]), "a")[0]
    # what the worker does as it takes the step: busy, and the attempt claimed in its name
    rq_worker.set_state(WorkerStatus.BUSY)
    ref = AttemptRef(attempt["id"], attempt["step_id"], attempt["job_id"])
    with world.engine.conn.transaction():
        attempts.claim(world.engine.conn, ref, rq_worker.name, rq_worker.pid, 30, Outbox())

    body = world.a.viewer.get("/workers").json()
    mine = next(w for w in body["workers"] if w["name"] == rq_worker.name)
    assert mine["state"] == "busy" and mine["pid"] == rq_worker.pid
    assert mine["hostname"] == rq_worker.hostname
    assert 0 <= mine["heartbeat_age_seconds"] < 30
    assert mine["current"]["job_id"] == job["id"]
    assert mine["current"]["step_key"] == "a"
    assert mine["current"]["workflow_name"] == "echo3"
    assert mine["busy_elsewhere"] is False
    queue = body["queues"][0]
    assert queue["name"] == body["queue"] == step_queue().name
    assert queue["workers"] == 1 and queue["busy"] == 1 and queue["depth"] >= 1
    assert body["dispatch"]["reason"].startswith("1 worker, busy")

    # workspace B sees the worker busy, never A's job or step
    other = world.b.viewer.get("/workers").json()
    seen = next(w for w in other["workers"] if w["name"] == rq_worker.name)
    assert seen["current"] is None and seen["busy_elsewhere"] is True
    assert job["id"] not in str(other)


def test_an_idle_worker_says_the_job_starts_in_a_moment(world: World, rq_worker: Worker) -> None:
    rq_worker.set_state(WorkerStatus.IDLE)
    body = world.a.viewer.get("/workers").json()
    assert body["dispatch"]["live"] == 1 and body["dispatch"]["busy"] == 0
    assert "1 of 1 worker(s) idle" in body["dispatch"]["reason"]


def test_without_workers_a_pending_job_waits_for_one(world: World) -> None:
    world.create("echo3")
    body = world.a.viewer.get("/workers").json()
    assert body["workers"] == []
    assert body["queues"][0]["depth"] >= 1 and body["queues"][0]["workers"] == 0
    assert body["dispatch"]["reason"].startswith(f"no worker listens on queue {step_queue().name}")
    assert world.anonymous.get("/workers").status_code == 401


def test_reaper_recoveries_name_only_the_callers_attempts(world: World) -> None:
    """A real reaper pass re-enqueues the queued attempts whose messages Redis lost; each
    workspace sees the pass's counts and only its own attempts, linked to their jobs."""
    mine, theirs = world.create("echo3"), world.create("echo3", ws=world.b)
    world.engine.conn.execute(
        "UPDATE step_attempts SET created_at = now() - interval '1 minute' WHERE job_id = ANY(%s)",
        ([uuid.UUID(mine["id"]), uuid.UUID(theirs["id"])],),
    )  # past the reaper's grace for queued attempts
    step_queue().empty()  # Redis lost the messages; Postgres still has the attempts
    reaper.reap_and_record(world.engine.conn, "reaper-under-test")

    def seen(ws: Any) -> dict[str, Any]:
        body = ws.viewer.get("/workers").json()
        return next(r for r in body["reapers"] if r["reaper"] == "reaper-under-test")

    a, b = seen(world.a), seen(world.b)
    assert a["last_counts"]["requeued"] == b["last_counts"]["requeued"] == 2
    assert a["recovered_total"] == 2 and a["last_recovery_at"] is not None
    assert [(r["job_id"], r["step_key"]) for r in a["recovered"]] == [(mine["id"], "a")]
    assert [(r["job_id"], r["step_key"]) for r in b["recovered"]] == [(theirs["id"], "a")]
