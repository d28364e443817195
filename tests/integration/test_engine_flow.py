"""Execution rules: DAG order, conditions, retries, timeouts, cancel, resume, re-run."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import pytest

from backend.errors import InvalidInput, InvalidTransition
from backend.jobs import service
from tests.integration.conftest import Engine, chain


def diamond(name: str = "diamond", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [
            {"key": "start", "action": "test.echo"},
            {
                "key": "left",
                "action": "test.echo",
                "depends_on": ["start"],
                "condition": "input.go_left == true",
            },
            {
                "key": "right",
                "action": "test.echo",
                "depends_on": ["start"],
                "condition": "input.go_left != true",
            },
            {"key": "after_left", "action": "test.echo", "depends_on": ["left"]},
            {"key": "merge", "action": "test.echo", "depends_on": ["after_left", "right"], **extra},
        ],
    }


def test_fan_out_merge_and_skip_rule(engine: Engine) -> None:
    engine.register(diamond())
    job_id = engine.create("diamond", {"go_left": False})
    assert engine.drain(job_id)["status"] == "completed"
    steps = engine.steps(job_id)
    assert steps["left"]["status"] == "skipped"
    assert steps["after_left"]["status"] == "skipped"  # a skipped dependency skips its chain
    assert steps["right"]["status"] == "completed"
    assert steps["merge"]["status"] == "completed"
    assert steps["merge"]["output_data"]["upstream"] == ["right"]
    assert steps["merge"]["started_at"] >= steps["right"]["completed_at"]


def test_retries_with_backoff_make_attempt_rows(engine: Engine) -> None:
    retry = {"max_attempts": 3, "backoff_seconds": 0.3, "factor": 2}
    engine.register(chain("flaky", "a", "b", action="test.flaky", retry=retry))
    job_id = engine.create("flaky", {"fail_times": 2})
    assert engine.drain(job_id)["status"] == "completed"
    attempts = engine.attempts(job_id, "a")
    assert [a["status"] for a in attempts] == ["failed", "failed", "completed"]
    assert [a["attempt_number"] for a in attempts] == [1, 2, 3]
    assert (
        attempts[0]["error_type"] == "RuntimeError"
        and "planned failure 1/2" in attempts[0]["error_message"]
    )
    assert "Traceback" in attempts[0]["traceback"]
    gap1 = (attempts[1]["started_at"] - attempts[0]["finished_at"]).total_seconds()
    gap2 = (attempts[2]["started_at"] - attempts[1]["finished_at"]).total_seconds()
    assert gap1 >= 0.3 and gap2 >= 0.6  # backoff 0.3 s, then 0.6 s
    step = engine.steps(job_id)["a"]
    assert step["attempt_count"] == 3 and step["error_message"] is None
    types = [e["type"] for e in engine.events(job_id) if e["step_key"] == "a"]
    assert types.count("retrying") == 2


def test_exhausted_attempts_fail_job_and_cancel_the_rest(engine: Engine) -> None:
    retry = {"max_attempts": 2, "backoff_seconds": 0}
    engine.register(chain("doomed", "a", "b", "c", action="test.flaky", retry=retry))
    job_id = engine.create("doomed", {"fail_times": 5})
    job = engine.drain(job_id)
    assert job["status"] == "failed"
    assert job["error_message"] == "Step 'A' failed: planned failure 2/5"
    steps = engine.steps(job_id)
    assert [steps[k]["status"] for k in "abc"] == ["failed", "cancelled", "cancelled"]
    assert len(engine.attempts(job_id, "a")) == 2 and engine.attempts(job_id, "b") == []


def test_timeout_is_enforced_and_recorded(engine: Engine) -> None:
    engine.register(
        chain("slow", "a", action="test.sleep", params={"seconds": 5}, timeout_seconds=0.5)
    )
    job_id = engine.create("slow")
    started = time.monotonic()
    job = engine.drain(job_id)
    assert time.monotonic() - started < 4
    assert job["status"] == "failed"
    attempt = engine.attempts(job_id, "a")[0]
    assert attempt["status"] == "timed_out" and attempt["error_type"] == "StepTimeout"
    assert engine.steps(job_id)["a"]["status"] == "timed_out"
    assert attempt["duration_seconds"] < 2


def test_invalid_payload_is_refused_with_fields(engine: Engine) -> None:
    engine.register(
        {
            "name": "typed",
            "input_schema": {
                "type": "object",
                "required": ["n"],
                "additionalProperties": False,
                "properties": {"n": {"type": "integer"}},
            },
            "steps": [{"key": "a", "action": "test.noop"}],
        }
    )
    with pytest.raises(InvalidInput) as info:
        engine.create("typed", {"n": "x", "extra": 1})
    locs = [p["loc"] for p in info.value.details]
    assert ["input_payload", "n"] in locs and ["input_payload"] in locs
    assert engine.conn.execute("SELECT count(*) AS n FROM jobs").fetchone()["n"] == 0


def test_cancel_stops_running_step_and_nothing_starts_after(engine: Engine) -> None:
    engine.register(chain("long", "a", "b", action="test.sleep", params={"seconds": 20}))
    job_id = engine.create("long")
    worker = engine.spawn_worker(simple=False)  # forking Worker: the step runs in a work horse
    _wait_for(lambda: engine.steps(job_id)["a"]["status"] == "running")
    engine.act(service.cancel_job, job_id)
    assert worker.wait(timeout=30) == 0
    job = engine.job(job_id)
    assert job["status"] == "cancelled"
    steps = engine.steps(job_id)
    assert steps["a"]["status"] == "cancelled" and steps["b"]["status"] == "cancelled"
    assert engine.attempts(job_id, "a")[0]["status"] == "cancelled"
    assert (job["steps_done"], job["progress"]) == (0, 0.0)  # progress counts work done
    assert engine.attempts(job_id, "b") == []
    with pytest.raises(InvalidTransition):
        engine.act(service.cancel_job, job_id)


def test_cancel_interrupts_a_step_on_the_main_thread(engine: Engine) -> None:
    engine.register(chain("long2", "a", action="test.sleep", params={"seconds": 30}))
    job_id = engine.create("long2")
    canceller = threading.Thread(target=_cancel_when_running, args=(engine, job_id))
    canceller.start()
    started = time.monotonic()
    engine.work()  # SimpleWorker on the main thread: the SIGALRM path interrupts the sleep
    canceller.join()
    assert time.monotonic() - started < 10
    assert engine.job(job_id)["status"] == "cancelled"


def _cancel_when_running(engine: Engine, job_id: Any) -> None:
    from backend.db import connect
    from backend.jobs.outbox import Outbox

    with connect(autocommit=True) as conn:
        _wait_for(
            lambda: (
                conn.execute(
                    "SELECT status FROM job_steps WHERE job_id = %s", (job_id,)
                ).fetchone()["status"]
                == "running"
            )
        )
        outbox = Outbox()
        with conn.transaction():
            service.cancel_job(conn, engine.workspace_id, job_id, outbox)
        outbox.flush(conn)


def test_completion_racing_cancel_has_one_outcome(engine: Engine) -> None:
    """Many rounds of a short step finishing while a cancel commits: every job ends either
    completed (cancel refused) or cancelled (its completion dropped), never a mix."""
    engine.register(chain("race", "a", action="test.sleep", params={"seconds": 0.05}))
    outcomes = set()
    for _ in range(8):
        job_id = engine.create("race")
        worker = engine.spawn_worker()
        _wait_for(
            lambda job_id=job_id: engine.steps(job_id)["a"]["status"] in ("running", "completed")
        )
        with contextlib.suppress(InvalidTransition):
            engine.act(service.cancel_job, job_id)
        worker.wait(timeout=30)
        job, step = engine.job(job_id), engine.steps(job_id)["a"]
        attempt = engine.attempts(job_id, "a")[0]
        assert (job["status"], step["status"], attempt["status"]) in {
            ("completed", "completed", "completed"),
            ("cancelled", "cancelled", "cancelled"),
        }
        outcomes.add(job["status"])
    assert outcomes  # at least one round ran; both outcomes are legal


def test_resume_reruns_only_unfinished_steps(engine: Engine) -> None:
    engine.register(
        chain("resumable", "a", "b", "c", action="test.flaky", retry={"max_attempts": 1})
    )
    job_id = engine.create("resumable", {"fail_times": 0})
    engine.conn.execute(
        "UPDATE job_steps SET params = '{\"fail_times\": 1}' WHERE job_id = %s AND step_key = 'b'",
        (job_id,),
    )
    assert engine.drain(job_id)["status"] == "failed"
    before = engine.steps(job_id)
    engine.act(service.resume_job, job_id)
    job = engine.drain(job_id)
    assert job["status"] == "completed" and job["error_message"] is None
    after = engine.steps(job_id)
    assert after["a"]["output_data"] == before["a"]["output_data"]
    assert after["a"]["attempt_count"] == 1 and len(engine.attempts(job_id, "a")) == 1
    assert after["a"]["completed_at"] == before["a"]["completed_at"]
    assert after["b"]["attempt_count"] == 2 and after["c"]["attempt_count"] == 1
    with pytest.raises(InvalidTransition):
        engine.act(service.resume_job, job_id)


def test_rerun_makes_linked_job_with_same_input(engine: Engine) -> None:
    engine.register(chain("again", "a"))
    first = engine.create("again", {"k": "v"})
    engine.drain(first)
    created = engine.act(service.rerun_job, first)
    second = engine.job(created.job_id)
    assert second["rerun_of"] == first and second["input_payload"] == {"k": "v"}
    assert second["execution_number"] == 2
    assert engine.drain(created.job_id)["status"] == "completed"


def test_delete_only_terminal_jobs(engine: Engine) -> None:
    engine.register(chain("del", "a"))
    job_id = engine.create("del")
    with pytest.raises(InvalidTransition):
        engine.act(lambda c, w, o: service.delete_job(c, w, job_id))
    engine.drain(job_id)
    engine.act(lambda c, w, o: service.delete_job(c, w, job_id))
    assert engine.conn.execute("SELECT count(*) AS n FROM step_attempts").fetchone()["n"] == 0


def test_counts_follow_status_changes(engine: Engine) -> None:
    engine.register(chain("counted", "a"))
    job_id = engine.create("counted")
    assert _counts(engine) == {"pending": 1}
    engine.drain(job_id)
    assert _counts(engine) == {"pending": 0, "running": 0, "completed": 1}


def _counts(engine: Engine) -> dict[str, int]:
    rows = engine.conn.execute(
        "SELECT status, n FROM job_counts WHERE workspace_id = %s", (engine.workspace_id,)
    )
    return {r["status"]: r["n"] for r in rows}


def _wait_for(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_snapshots_before_and_after_with_delta(engine: Engine) -> None:
    from tests.stepdefs import COUNTER

    engine.register(
        {
            "name": "audited",
            "snapshot": "test.counter",
            "steps": [
                {"key": "a", "action": "test.add_items", "params": {"n": 3}},
                {"key": "b", "action": "test.add_items", "params": {"n": 2}, "depends_on": ["a"]},
            ],
        }
    )
    start = COUNTER["items"]
    job = engine.drain(engine.create("audited"))
    assert job["state_before"] == {"items": start, "label": "in-process counter"}
    assert job["state_after"] == {"items": start + 5, "label": "in-process counter"}
    assert job["delta"] == {"items": 5}
