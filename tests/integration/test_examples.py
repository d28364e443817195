"""The example workflows on real workers: dependency order, determinism, records, snapshots,
planned failures and retries."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from backend.jobs import service
from backend.steps import REGISTRY
from examples import WORKFLOW_NAMES, load_workflow
from tests.integration.conftest import Engine

SMALL = {"records": 60, "seed": 7}
Steps = dict[str, dict[str, Any]]


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The examples' stores live in this test's own directory."""
    path = tmp_path / "data"
    monkeypatch.setenv("JOBMONITOR_DATA_DIR", str(path))
    return path


def run(engine: Engine, name: str, **payload: Any) -> tuple[dict[str, Any], Steps]:
    """Register the example, run one job of it to the end; the job row and its steps. Forced:
    data_pipeline and memory_first_v2 allow one global_batch start a minute."""
    engine.register(load_workflow(name))
    hands_free = {"auto_review": True} if name == "memory_first_v2" else {}
    job_id = engine.create(name, {**SMALL, **hands_free, **payload}, force=True)
    return engine.drain(job_id), engine.steps(job_id)


def per_step(engine: Engine, table: str, job_id: uuid.UUID) -> dict[str, int]:
    rows = engine.conn.execute(
        f"""
        SELECT s.step_key, count(*) AS n FROM {table} r JOIN job_steps s ON s.id = r.step_id
        WHERE r.job_id = %s GROUP BY s.step_key
        """,
        (job_id,),
    )
    return {r["step_key"]: r["n"] for r in rows}


def assert_dependency_order(name: str, steps: Steps) -> None:
    for spec in load_workflow(name)["steps"]:
        row = steps[spec["key"]]
        if row["started_at"] is None:
            continue
        for dep in spec["depends_on"]:
            done = steps[dep]["completed_at"]
            assert done is not None and done <= row["started_at"], (
                f"{spec['key']} started before {dep} ended"
            )


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_example_completes_in_dependency_order_with_records(engine: Engine, name: str) -> None:
    job, steps = run(engine, name)
    assert job["status"] == "completed", job["error_message"]
    expected_skips = 2 if name == "conditional_workflow" else 0
    assert [s["status"] for s in steps.values()].count("skipped") == expected_skips
    assert_dependency_order(name, steps)
    ran = {key for key, s in steps.items() if s["status"] == "completed"}
    assert len(ran) == len(steps) - expected_skips
    assert set(per_step(engine, "step_logs", job["id"])) == ran
    assert set(per_step(engine, "step_metrics", job["id"])) == ran
    assert set(per_step(engine, "step_costs", job["id"])) == ran
    assert all(steps[key]["cost_usd"] > 0 for key in ran)
    assert job["total_cost"] == sum(s["cost_usd"] for s in steps.values()) > 0
    assert job["progress"] == 1.0


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_example_outputs_are_deterministic_for_a_seed(engine: Engine, name: str) -> None:
    first_job, first = run(engine, name)
    second_job, second = run(engine, name)
    _, other_seed = run(engine, name, seed=8)
    assert {k: s["output_data"] for k, s in first.items()} == {
        k: s["output_data"] for k, s in second.items()
    }
    assert first_job["output_payload"] == second_job["output_payload"]
    first_key = load_workflow(name)["steps"][0]["key"]
    assert other_seed[first_key]["output_data"] != first[first_key]["output_data"]


def test_parallel_branches_fan_out_and_merge(engine: Engine) -> None:
    job, steps = run(engine, "parallel_processing")
    assert job["status"] == "completed"
    branches = [steps[k] for k in ("branch_a", "branch_b", "branch_c")]
    prepared = steps["data_preparation"]
    assert all(b["started_at"] >= prepared["completed_at"] for b in branches)
    assert steps["merge_results"]["started_at"] >= max(b["completed_at"] for b in branches)
    shards = prepared["output_data"]["shards"]
    assert [b["output_data"]["amount"]["count"] for b in branches] == [shards[s] for s in "abc"]
    merged = steps["merge_results"]["output_data"]
    assert merged["verified"] is True
    assert merged["amount"]["count"] == prepared["output_data"]["valid"] == sum(shards.values())


@pytest.mark.parametrize("mode", ["fast", "standard", "thorough", None])
def test_conditional_runs_exactly_the_branch_of_the_mode(engine: Engine, mode: str | None) -> None:
    job, steps = run(engine, "conditional_workflow", **({"mode": mode} if mode else {}))
    assert job["status"] == "completed"
    chosen = f"{mode or 'standard'}_process"
    branches = {k: s["status"] for k, s in steps.items() if k.endswith("_process")}
    assert branches == {k: "completed" if k == chosen else "skipped" for k in branches}
    assert steps["aggregate_results"]["status"] == "completed"
    assert steps["aggregate_results"]["output_data"]["branch"] == chosen
    assert steps["aggregate_results"]["started_at"] >= steps[chosen]["completed_at"]
    assert all(engine.attempts(job["id"], k) == [] for k in branches if k != chosen)


def test_memory_first_v2_records_llm_tokens_and_cost(engine: Engine) -> None:
    job, steps = run(engine, "memory_first_v2", limit=25, model="gpt-4o-mini")
    assert job["status"] == "completed"
    costs = engine.conn.execute(
        """
        SELECT s.step_key, c.kind, c.provider, c.model, c.tokens_in, c.tokens_out, c.amount_usd
        FROM step_costs c JOIN job_steps s ON s.id = c.step_id WHERE c.job_id = %s AND c.kind = 'llm'
        ORDER BY s.step_index
        """,
        (job["id"],),
    ).fetchall()
    assert [c["step_key"] for c in costs] == ["summarize", "proposals"]
    assert all(c["provider"] == "openai" and c["model"] == "gpt-4o-mini" for c in costs)
    assert all(c["tokens_in"] > 0 and c["tokens_out"] > 0 and c["amount_usd"] > 0 for c in costs)
    summarized = steps["summarize"]["output_data"]
    assert (costs[0]["tokens_in"], costs[0]["tokens_out"]) == (
        summarized["tokens_in"],
        summarized["tokens_out"],
    )
    all_costs = engine.conn.execute(
        "SELECT sum(amount_usd) AS s FROM step_costs WHERE job_id = %s", (job["id"],)
    )
    assert job["total_cost"] == all_costs.fetchone()["s"] > 0
    proposals = steps["proposals"]["output_data"]
    assert len(proposals["items"]) == 25
    assert proposals["summary"] == "Generated 25 proposal(s)"
    reviewed = steps["review"]["output_data"]
    assert reviewed["approved"] + reviewed["rejected"] == 25 and reviewed["rejected"] > 0
    analytics = steps["analytics"]["output_data"]
    assert analytics["by_status"] == {
        "applied": reviewed["approved"],
        "rejected": reviewed["rejected"],
    }


def test_data_pipeline_snapshot_counts_what_the_job_loaded(engine: Engine) -> None:
    state = REGISTRY.snapshots[load_workflow("data_pipeline")["snapshot"]]
    before = state()
    job, steps = run(engine, "data_pipeline")
    after = state()
    assert job["status"] == "completed"
    loaded = steps["load_data"]["output_data"]
    assert after["rows_total"] - before["rows_total"] == loaded["loaded"] == SMALL["records"]
    assert after["rows_valid"] - before["rows_valid"] == loaded["valid"]
    assert after["batches_loaded"] - before["batches_loaded"] == 1
    assert after["rows_staged"] == 0
    assert steps["cleanup"]["output_data"]["removed"] == {"staging": 60, "transformed": 60}


def test_memory_first_v2_snapshot_remembers_documents(engine: Engine) -> None:
    state = REGISTRY.snapshots[load_workflow("memory_first_v2")["snapshot"]]
    before = state()
    _, steps = run(engine, "memory_first_v2")
    middle = state()
    _, again = run(engine, "memory_first_v2")
    after = state()
    assert middle["documents_total"] - before["documents_total"] == SMALL["records"]
    assert middle["documents_with_summary"] == middle["documents_total"]
    assert after["documents_total"] == middle["documents_total"]  # the same notes: nothing new
    items = len(steps["proposals"]["output_data"]["items"])
    assert (
        after["proposals_total"] - middle["proposals_total"]
        == items
        == len(again["proposals"]["output_data"]["items"])
    )
    assert (
        after["proposals_applied"] - middle["proposals_applied"]
        == again["apply"]["output_data"]["applied"]
    )


@pytest.mark.parametrize(
    ("name", "step_key"),
    [
        ("basic_sequence", "process"),
        ("parallel_processing", "branch_b"),
        ("conditional_workflow", "aggregate_results"),
        ("data_pipeline", "load_data"),
        ("memory_first_v2", "summarize"),
    ],
)
def test_planned_failure_recovers_on_retry(engine: Engine, name: str, step_key: str) -> None:
    job, steps = run(engine, name, fail_step=step_key, fail_times=1)
    assert job["status"] == "completed", job["error_message"]
    attempts = engine.attempts(job["id"], step_key)
    assert [(a["attempt_number"], a["status"]) for a in attempts] == [
        (1, "failed"),
        (2, "completed"),
    ]
    assert (
        attempts[0]["error_type"] == "PlannedFailure" and step_key in attempts[0]["error_message"]
    )
    assert steps[step_key]["attempt_count"] == 2
    assert_dependency_order(name, steps)


def test_planned_failure_beyond_the_retries_fails_the_job(engine: Engine) -> None:
    job, steps = run(engine, "data_pipeline", fail_step="transform_data", fail_times=10)
    assert job["status"] == "failed"
    assert "Transform Data" in job["error_message"] and "'transform_data'" in job["error_message"]
    assert [a["status"] for a in engine.attempts(job["id"], "transform_data")] == ["failed"] * 3
    statuses = {k: s["status"] for k, s in steps.items()}
    assert statuses == {
        "validate_source": "completed",
        "extract_data": "completed",
        "transform_data": "failed",
        "validate_transformation": "cancelled",
        "load_data": "cancelled",
        "post_load_validation": "cancelled",
        "cleanup": "cancelled",
    }
    assert REGISTRY.snapshots["data_pipeline.state"]()["rows_total"] == 0


def test_delay_seconds_paces_every_step(engine: Engine) -> None:
    job, _ = run(engine, "basic_sequence", records=20, delay_seconds=0.3)
    assert job["status"] == "completed"
    durations = [a["duration_seconds"] for a in engine.attempts(job["id"])]
    assert len(durations) == 3 and all(d >= 0.28 for d in durations)


def test_cancel_stops_a_step_while_it_waits_out_its_delay(engine: Engine) -> None:
    engine.register(load_workflow("basic_sequence"))
    job_id = engine.create("basic_sequence", {"records": 20, "delay_seconds": 20})
    worker = engine.spawn_worker()
    deadline = time.monotonic() + 15
    while engine.steps(job_id)["initialize"]["status"] != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # well inside the step's delay
    cancelled_at = time.monotonic()
    engine.act(service.cancel_job, job_id)
    assert worker.wait(timeout=15) == 0
    assert time.monotonic() - cancelled_at < 5
    assert engine.job(job_id)["status"] == "cancelled"
    assert [a["status"] for a in engine.attempts(job_id)] == ["cancelled"]
    assert {s["status"] for s in engine.steps(job_id).values()} == {"cancelled"}
