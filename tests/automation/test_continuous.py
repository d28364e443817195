"""Continuous workflows with a real scheduler process: a NOTIFY from the user's side wakes it,
the expected_work function decides, the job it started must end before the next, and an
interval check works without any NOTIFY; the API's validation."""

from __future__ import annotations

import time
import uuid
from typing import Any

from backend.continuous import service as continuous
from backend.continuous.schemas import ContinuousCreate
from tests.api.conftest import World, error_of
from tests.automation.helpers import schedulers, wait_until
from tests.integration.conftest import Engine, chain


def _setup(engine: Engine, **spec: Any) -> uuid.UUID:
    engine.conn.execute(
        "CREATE TABLE test_work_items (id serial PRIMARY KEY, done bool NOT NULL DEFAULT false)"
    )
    engine.register(chain("drain", "a", action="test.noop"))
    with engine.conn.transaction():
        row = continuous.create(
            engine.conn,
            engine.workspace_id,
            ContinuousCreate(workflow="drain", expected_work="test.pending_rows", **spec),
        )
    return row.id


def _jobs(engine: Engine) -> list[dict[str, Any]]:
    return engine.conn.execute(
        "SELECT id, status FROM jobs WHERE workspace_id = %s ORDER BY created_at",
        (engine.workspace_id,),
    ).fetchall()


def _state(engine: Engine, ident: uuid.UUID) -> dict[str, Any]:
    row = engine.conn.execute(
        "SELECT * FROM continuous_workflows WHERE id = %s", (ident,)
    ).fetchone()
    assert row is not None
    return row


def test_notify_wakes_a_continuous_workflow(engine: Engine) -> None:
    ident = _setup(engine, channel="work_ready")
    with schedulers(1, interval="0.2"):  # a channel-only workflow is checked on NOTIFY only
        wait_until(lambda: _state(engine, ident)["last_checked_at"], 60, "the first check")
        assert _state(engine, ident)["last_result"] == {"pending": {"pending_rows": 0}}
        engine.conn.execute("INSERT INTO test_work_items DEFAULT VALUES")
        time.sleep(1.0)  # no NOTIFY yet: nothing looks (a negative check; can only pass late)
        assert _jobs(engine) == []
        engine.conn.execute("NOTIFY work_ready")
        first = wait_until(lambda: _jobs(engine), 30, "a job after the NOTIFY")
        assert len(first) == 1 and _state(engine, ident)["last_result"] == {
            "pending": {"pending_rows": 1}
        }
        engine.conn.execute("SELECT pg_notify('work_ready', 'more')")  # while its job is active
        wait_until(lambda: _state(engine, ident)["woken"], 30, "the wake to be remembered")
        assert len(_jobs(engine)) == 1  # one at a time
        engine.drain(first[0]["id"])  # the job ends; the work is still there: the next starts
        second = wait_until(lambda: _jobs(engine)[1:], 60, "the next job")
        engine.conn.execute("UPDATE test_work_items SET done = true")
        engine.drain(second[0]["id"])
        engine.conn.execute("NOTIFY work_ready")
        wait_until(
            lambda: _state(engine, ident)["last_result"] == {"pending": {"pending_rows": 0}},
            30,
            "a check that finds no work",
        )
    assert len(_jobs(engine)) == 2


def test_interval_check_and_concurrency_policy(engine: Engine) -> None:
    ident = _setup(engine, check_interval_seconds=1)
    engine.conn.execute("INSERT INTO test_work_items DEFAULT VALUES")
    with schedulers(1):
        job = wait_until(lambda: _jobs(engine), 60, "a job from the interval check")[0]
        engine.drain(job["id"])
        wait_until(lambda: _jobs(engine)[1:], 60, "another job while work remains")
    assert _state(engine, ident)["last_result"]["pending"] == {"pending_rows": 1}


def test_continuous_api_validation(world: World) -> None:
    op = world.a.operator
    base = {"workflow": "echo3", "expected_work": "test.pending_rows"}
    assert error_of(op.post("/continuous", json=base))["details"][0]["msg"].startswith(
        "Value error"
    )
    bad = op.post("/continuous", json={**base, "expected_work": "nope", "channel": "ok_channel"})
    assert bad.status_code == 422 and error_of(bad)["details"][0]["loc"] == ["expected_work"]
    channel = op.post("/continuous", json={**base, "channel": "Bad-Channel; DROP"})
    assert channel.status_code == 422 and error_of(channel)["details"][0]["loc"] == ["channel"]
    typed = op.post("/continuous", json={**base, "workflow": "typed", "channel": "c"})
    assert typed.status_code == 422 and error_of(typed)["details"][0]["loc"][0] == "input_payload"
    created = op.post("/continuous", json={**base, "channel": "c", "check_interval_seconds": 60})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert op.post("/continuous", json={**base, "channel": "c"}).status_code == 409
    assert world.a.viewer.post("/continuous", json={**base, "channel": "d"}).status_code == 403
    assert world.b.admin.get(f"/continuous/{cid}").status_code == 404
    assert op.patch(f"/continuous/{cid}", json={"enabled": False}).json()["enabled"] is False
    assert [c["id"] for c in world.a.viewer.get("/continuous").json()["items"]] == [cid]
    assert op.delete(f"/continuous/{cid}").status_code == 204
