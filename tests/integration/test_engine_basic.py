from __future__ import annotations

from tests.integration.conftest import Engine, chain


def test_linear_job_completes_in_order(engine: Engine) -> None:
    engine.register(chain("lin", "a", "b", "c"))
    job_id = engine.create("lin", {"x": 1})
    job = engine.drain(job_id)
    assert job["status"] == "completed"
    steps = engine.steps(job_id)
    assert [s["status"] for s in steps.values()] == ["completed"] * 3
    assert steps["b"]["output_data"]["upstream"] == ["a"]
    assert steps["a"]["started_at"] <= steps["a"]["completed_at"] <= steps["b"]["started_at"]
    assert job["progress"] == 1.0
    assert job["output_payload"] == {"c": steps["c"]["output_data"]}
    assert float(job["total_cost"]) == 0.75
    logs = engine.conn.execute(
        "SELECT message FROM step_logs WHERE job_id = %s ORDER BY id", (job_id,)
    ).fetchall()
    assert "stdout line from a" in [r["message"] for r in logs]
    types = [e["type"] for e in engine.events(job_id)]
    assert types[0] == "workflow_created"
    assert types[-1] == "workflow_completed"
    assert types.count("step_completed") == 3


def test_stored_step_events_carry_duration(engine: Engine) -> None:
    engine.register(chain("timed", "a"))
    job_id = engine.create("timed")
    engine.drain(job_id)
    completed = next(e for e in engine.events(job_id) if e["type"] == "step_completed")
    assert completed["data"]["duration_seconds"] == engine.steps(job_id)["a"]["duration_seconds"]
