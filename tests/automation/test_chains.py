"""Triggers (chains) with real scheduler and worker processes: a mapped input from the ended
job's step output, a trigger on failure, a path that finds nothing, loop protection; and the
API's validation."""

from __future__ import annotations

import uuid
from typing import Any

from backend.triggers import service as triggers
from backend.triggers.schemas import TriggerCreate
from tests.api.conftest import World, error_of
from tests.automation.helpers import schedulers, wait_until
from tests.integration.conftest import Engine, chain

LOADER = {
    "name": "loader",
    "steps": [{"key": "load_data", "action": "test.emit", "params": {"rows": 3, "label": "x"}}],
}
CONSUMER = {
    "name": "consumer",
    "input_schema": {
        "type": "object",
        "properties": {"rows": {"type": "integer"}},
        "required": ["rows"],
    },
    "steps": [{"key": "use", "action": "test.echo"}],
}
BROKEN = {
    "name": "broken",
    "steps": [{"key": "boom", "action": "test.flaky", "params": {"fail_times": 5}}],
}


def _trigger(engine: Engine, **spec: Any) -> uuid.UUID:
    with engine.conn.transaction():
        return triggers.create_trigger(engine.conn, engine.workspace_id, TriggerCreate(**spec)).id


def _fires(engine: Engine, trigger_id: uuid.UUID) -> list[dict[str, Any]]:
    return engine.conn.execute(
        "SELECT * FROM trigger_fires WHERE trigger_id = %s ORDER BY created_at", (trigger_id,)
    ).fetchall()


def test_chain_with_mapping_and_on_failure(engine: Engine) -> None:
    for definition in (LOADER, CONSUMER, BROKEN):
        engine.register(definition)
    mapped = _trigger(
        engine,
        name="load-then-use",
        source_workflow="loader",
        target_workflow="consumer",
        input_mapping={"rows": "$.steps.load_data.output.rows", "source": "$.job.id", "fixed": 7},
    )
    missing = _trigger(
        engine,
        name="nothing-there",
        source_workflow="loader",
        target_workflow="consumer",
        input_mapping={"rows": "$.output.absent"},
    )
    on_failure = _trigger(
        engine,
        name="after-failure",
        source_workflow="broken",
        on="failed",
        target_workflow="consumer",
        input_mapping={"rows": 1, "error": "$.job.error"},
    )
    not_on_success = _trigger(
        engine,
        name="only-failures",
        source_workflow="loader",
        on="failed",
        target_workflow="consumer",
        input_mapping={"rows": 1},
    )
    worker = engine.spawn_worker(simple=True, burst=False)
    try:
        with schedulers(1):
            loader_job = engine.create("loader")
            broken_job = engine.create("broken")
            fire = wait_until(lambda: _fires(engine, mapped), 60, "the chain to fire")[0]
            assert fire["status"] == "started" and fire["source_job_id"] == loader_job
            consumer = wait_until(
                lambda: (
                    engine.job(fire["job_id"])["status"] == "completed"
                    and engine.job(fire["job_id"])
                ),
                60,
                "the chained job to complete",
            )
            assert consumer["input_payload"] == {"rows": 3, "source": str(loader_job), "fixed": 7}
            assert consumer["idempotency_key"] == f"trigger:{mapped}:{loader_job}"
            refused = wait_until(lambda: _fires(engine, missing), 30, "the refusal")[0]
            assert (
                refused["status"] == "refused"
                and "no value at $.output.absent" in refused["reason"]
            )
            after = wait_until(lambda: _fires(engine, on_failure), 60, "the failure trigger")[0]
            assert after["status"] == "started" and after["source_job_id"] == broken_job
            assert "planned failure" in engine.job(after["job_id"])["input_payload"]["error"]
            assert _fires(engine, not_on_success) == []
    finally:
        worker.kill()
        worker.wait(timeout=10)


def test_loop_protection(engine: Engine) -> None:
    engine.register(chain("ping", "a", action="test.noop"))
    engine.register(chain("pong", "a", action="test.noop"))
    there = _trigger(engine, name="there", source_workflow="ping", target_workflow="pong")
    back = _trigger(engine, name="back", source_workflow="pong", target_workflow="ping")
    worker = engine.spawn_worker(simple=True, burst=False)
    try:
        with schedulers(1):
            engine.create("ping")
            loop = wait_until(
                lambda: [f for f in _fires(engine, there) if f["status"] == "loop"], 90, "a loop"
            )[0]
    finally:
        worker.kill()
        worker.wait(timeout=10)
    assert "already fired in this chain" in loop["reason"] and loop["job_id"] is None
    assert loop["chain"] == [str(there), str(back), str(there)]
    names = engine.conn.execute(
        "SELECT w.name FROM jobs j JOIN workflows w ON w.id = j.workflow_id"
        " WHERE j.workspace_id = %s ORDER BY j.created_at",
        (engine.workspace_id,),
    ).fetchall()
    assert [n["name"] for n in names] == ["ping", "pong", "ping"]


def test_trigger_api_validation(world: World) -> None:
    op = world.a.operator
    base = {"name": "t", "source_workflow": "echo3", "target_workflow": "typed"}
    bad = op.post(
        "/triggers",
        json={
            **base,
            "input_mapping": {
                "a": "$.steps.zz.output",
                "b": "$.nowhere",
                "c": "$.[",
                "d": "$.steps.a.output.x",
            },
        },
    )
    assert bad.status_code == 422
    locs = {tuple(p["loc"]): p["msg"] for p in error_of(bad)["details"]}
    assert set(locs) == {("input_mapping", "a"), ("input_mapping", "b"), ("input_mapping", "c")}
    assert "no such step" in locs[("input_mapping", "a")]
    assert op.post("/triggers", json={**base, "on": "sometimes"}).status_code == 422
    created = op.post(
        "/triggers", json={**base, "input_mapping": {"count": "$.input.n", "name": "x"}}
    )
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    assert op.post("/triggers", json=base).status_code == 409
    assert world.a.viewer.post("/triggers", json={**base, "name": "v"}).status_code == 403
    assert world.b.admin.get(f"/triggers/{tid}").status_code == 404
    assert world.b.admin.delete(f"/triggers/{tid}").status_code == 404
    assert op.patch(f"/triggers/{tid}", json={"enabled": False}).json()["enabled"] is False
    assert op.get(f"/triggers/{tid}/fires").json() == {"items": []}
    assert op.delete(f"/triggers/{tid}").status_code == 204
    assert op.get("/triggers").json() == {"items": []}
