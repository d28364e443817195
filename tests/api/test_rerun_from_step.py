"""Re-run from a chosen step with a patched input: upstream outputs reused, never re-run."""

from __future__ import annotations

from backend.db import connect
from tests.api.conftest import World, error_of
from tests.api.investigate import finished, register_pipe


def _attempts(job_id: str) -> dict[str, int]:
    with connect(autocommit=True) as conn:
        rows = conn.execute(
            "SELECT step_key, count(*) AS n FROM step_attempts WHERE job_id = %s GROUP BY 1",
            (job_id,),
        ).fetchall()
    return {r["step_key"]: r["n"] for r in rows}


def test_rerun_from_step_reuses_upstream_and_patches_input(world: World) -> None:
    register_pipe(world)
    original = finished(world, "pipe", {"n": 2, "mode": "fast"})
    response = world.a.operator.post(
        f"/jobs/{original['id']}/rerun",
        json={"from_step": "transform", "input_patch": {"n": 5, "mode": None}},
    )
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["rerun_of"] == original["id"] and job["input_payload"] == {"n": 5}
    steps = {
        s["step_key"]: s for s in world.a.viewer.get(f"/jobs/{job['id']}/steps").json()["steps"]
    }
    old = {
        s["step_key"]: s
        for s in world.a.viewer.get(f"/jobs/{original['id']}/steps").json()["steps"]
    }
    extract = steps["extract"]
    assert extract["status"] == "completed" and extract["reused_from_job_id"] == original["id"]
    assert extract["reused_from_step_id"] == old["extract"]["id"]
    assert extract["output_data"] == old["extract"]["output_data"]
    assert steps["transform"]["reused_from_job_id"] is None
    assert world.run(job)["status"] == "completed"
    steps = {
        s["step_key"]: s for s in world.a.viewer.get(f"/jobs/{job['id']}/steps").json()["steps"]
    }
    assert steps["transform"]["output_data"] == {"n": 5}
    assert steps["load"]["output_data"]["upstream"] == ["transform"]
    assert _attempts(job["id"]) == {"transform": 1, "load": 1}  # extract never ran again
    assert steps["extract"]["attempt_number"] == 0 and steps["extract"]["cost_usd"] == 0
    events = world.engine.events(__import__("uuid").UUID(job["id"]))
    assert [e["step_key"] for e in events if e["type"] == "step_reused"] == ["extract"]
    audit = world.a.admin.get("/audit", params={"action": "job.rerun"}).json()
    assert any(e["data"].get("from_step") == "transform" for e in audit["items"])


def test_run_one_step_again(world: World) -> None:
    register_pipe(world)
    original = finished(world, "pipe", {"n": 3})
    response = world.a.operator.post(f"/jobs/{original['id']}/steps/load/rerun")
    assert response.status_code == 201, response.text
    job = world.run(response.json())
    assert job["status"] == "completed"
    assert _attempts(str(job["id"])) == {"load": 1}


def test_rerun_from_step_refusals(world: World) -> None:
    register_pipe(world)
    original = finished(world, "pipe", {"n": 1})
    op = world.a.operator
    unknown = op.post(f"/jobs/{original['id']}/rerun", json={"from_step": "nope"})
    assert unknown.status_code == 422
    assert error_of(unknown)["details"][0]["loc"] == ["body", "from_step"]
    bad = op.post(
        f"/jobs/{original['id']}/rerun", json={"from_step": "load", "input_patch": {"n": -1}}
    )
    assert bad.status_code == 422 and error_of(bad)["details"][0]["loc"][-1] == "n"
    both = op.post(
        f"/jobs/{original['id']}/rerun", json={"from_step": "load", "latest_version": True}
    )
    assert both.status_code == 422
    extra = op.post(f"/jobs/{original['id']}/rerun", json={"from": "load"})
    assert extra.status_code == 422
    broken = finished(world, "broken", {})
    assert broken["status"] == "failed"
    chained = world.a.admin.post(
        "/workflows",
        json={
            "name": "fail-then",
            "steps": [
                {"key": "boom", "action": "test.flaky", "params": {"fail_times": 5}},
                {"key": "after", "action": "test.noop", "depends_on": ["boom"]},
            ],
        },
    )
    assert chained.status_code in (200, 201)
    failed = finished(world, "fail-then", {})
    refused = op.post(f"/jobs/{failed['id']}/rerun", json={"from_step": "after"})
    assert refused.status_code == 409 and "'boom'" in error_of(refused)["message"]
    with connect(autocommit=True) as conn:
        n = conn.execute("SELECT count(*) AS n FROM jobs WHERE rerun_of = %s", (failed["id"],))
        assert n.fetchone()["n"] == 0  # nothing half-written
    assert world.a.viewer.post(f"/jobs/{original['id']}/rerun", json={}).status_code == 403
    plain = op.post(f"/jobs/{original['id']}/rerun")  # no body: as before
    assert plain.status_code == 201 and plain.json()["input_payload"] == {"n": 1}
