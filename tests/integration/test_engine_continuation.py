"""Continuation on the same worker (workers.continuation): a completion that makes steps ready
claims the first and runs it in the same worker, without an rq message; the record is the
same as through rq (attempt rows with leases, every event), a fan-out's other branches go
through rq, a cancel stops a continued chain, and a worker that dies mid-continuation is
recovered by the reaper with exactly one committed success per step."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rq.job import Job as RqJob

from backend.jobs import service
from backend.queue import redis_client, step_queue
from tests.integration.conftest import (
    ContinuingBurstWorker,
    Engine,
    chain,
    wait_for,
    work_continuing,
)
from workers.worker import ResilientQueue

RETRY = {"max_attempts": 3, "backoff_seconds": 0}


def had_message(attempt_id: uuid.UUID) -> bool:
    """Did rq carry this attempt (its rq job, kept after success, exists)?"""
    return bool(RqJob.exists(str(attempt_id), connection=redis_client()))


def event_record(engine: Engine, job_id: uuid.UUID) -> list[tuple[Any, ...]]:
    return [
        (e["step_key"], e["type"], e["from_status"], e["to_status"], bool(e["attempt_id"]))
        for e in engine.events(job_id)
    ]


def test_chain_continues_on_one_worker_with_the_same_record(engine: Engine) -> None:
    engine.register(chain("cont", "a", "b", "c"))
    through_rq = engine.create("cont")
    engine.work()  # the harness's plain rq SimpleWorker: every step through rq
    continued = engine.create("cont")
    work_continuing()
    for job_id in (through_rq, continued):
        assert engine.job(job_id)["status"] == "completed"
    attempts = engine.attempts(continued)
    assert [(a["step_key"], a["status"]) for a in attempts] == [
        ("a", "completed"),
        ("b", "completed"),
        ("c", "completed"),
    ]
    # one worker ran the chain, each attempt under its own lease; only `a` had a message
    assert len({a["worker_name"] for a in attempts}) == 1
    assert len({a["lease_token"] for a in attempts}) == 3 and all(a["pid"] for a in attempts)
    assert [had_message(a["id"]) for a in attempts] == [True, False, False]
    assert all(had_message(a["id"]) for a in engine.attempts(through_rq))
    # the same events, in the same order, as through rq; the same logs, costs and outputs
    assert event_record(engine, continued) == event_record(engine, through_rq)
    for table in ("step_logs", "step_costs", "step_metrics"):
        counts = [
            engine.conn.execute(
                f"SELECT count(*) AS n FROM {table} WHERE job_id = %s", (job_id,)
            ).fetchone()["n"]
            for job_id in (through_rq, continued)
        ]
        assert counts[0] == counts[1] >= 3, table
    outputs = {k: s["output_data"] for k, s in engine.steps(continued).items()}
    assert outputs["c"]["upstream"] == ["b"] and outputs["b"]["upstream"] == ["a"]
    assert engine.steps(continued)["c"]["input_data"]["upstream"]["b"]["step"] == "b"


def test_fan_out_keeps_one_branch_and_sends_the_others_through_rq(engine: Engine) -> None:
    branches = [{"key": f"b{i}", "action": "test.noop", "depends_on": ["root"]} for i in range(3)]
    engine.register(
        {
            "name": "fan",
            "steps": [
                {"key": "root", "action": "test.noop"},
                *branches,
                {"key": "join", "action": "test.noop", "depends_on": ["b0", "b1", "b2"]},
                {"key": "tail", "action": "test.noop", "depends_on": ["join"]},
            ],
        }
    )
    job_id = engine.create("fan")
    work_continuing()
    assert engine.job(job_id)["status"] == "completed"
    attempts = {a["step_key"]: a for a in engine.attempts(job_id)}
    assert all(a["status"] == "completed" for a in attempts.values()) and len(attempts) == 6
    carried = {key for key, a in attempts.items() if had_message(a["id"])}
    # the first branch was continued, the other two enqueued; the fan-in (made ready by the
    # last branch) and what follows it were continued
    assert carried == {"root", "b1", "b2"}
    assert len({attempts[k]["lease_token"] for k in attempts}) == 6


def test_cancel_during_the_parent_continues_nothing(engine: Engine) -> None:
    engine.register(
        {
            "name": "cancel-parent",
            "steps": [
                {"key": "a", "action": "test.sleep", "params": {"seconds": 20}},
                {"key": "b", "action": "test.noop", "depends_on": ["a"]},
            ],
        }
    )
    job_id = engine.create("cancel-parent")
    worker = engine.spawn_worker(simple=True)  # `jobmonitor worker --simple --burst`
    try:
        wait_for(lambda: engine.steps(job_id)["a"]["status"] == "running", what="a running")
        engine.act(service.cancel_job, job_id)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    assert engine.job(job_id)["status"] == "cancelled"
    assert engine.attempts(job_id, "a")[0]["status"] == "cancelled"
    assert engine.attempts(job_id, "b") == []


def test_cancel_stops_a_continued_step_and_its_chain(engine: Engine) -> None:
    engine.register(
        {
            "name": "cancel-child",
            "steps": [
                {"key": "a", "action": "test.noop"},
                {
                    "key": "b",
                    "action": "test.sleep",
                    "params": {"seconds": 20},
                    "depends_on": ["a"],
                },
                {"key": "c", "action": "test.noop", "depends_on": ["b"]},
            ],
        }
    )
    job_id = engine.create("cancel-child")
    worker = engine.spawn_worker(simple=True)
    try:
        wait_for(lambda: engine.steps(job_id)["b"]["status"] == "running", what="b running")
        started = time.monotonic()
        engine.act(service.cancel_job, job_id)
        assert worker.wait(timeout=30) == 0
        assert time.monotonic() - started < 15  # interrupted, not slept out
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    a, b = engine.attempts(job_id, "a")[0], engine.attempts(job_id, "b")[0]
    assert a["worker_name"] == b["worker_name"] and not had_message(b["id"])  # continued
    assert (a["status"], b["status"]) == ("completed", "cancelled")
    assert engine.steps(job_id)["c"]["status"] == "cancelled"
    assert engine.attempts(job_id, "c") == []
    assert engine.job(job_id)["status"] == "cancelled"


@pytest.mark.slow
def test_worker_killed_mid_continuation_is_recovered_once(engine: Engine, tmp_path: Path) -> None:
    engine.register({"name": "crash-cont", "steps": _with_retry()})
    job_id = engine.create("crash-cont", {"marker_dir": str(tmp_path), "sleep": 60})
    worker = engine.spawn_worker(simple=True, burst=False)
    try:
        pid = _wait_for_marker(tmp_path, "b.1.")
        assert os.getpgid(pid) == worker.pid  # b runs in the worker that ran a
        a, b = engine.attempts(job_id, "a")[0], engine.attempts(job_id, "b")[0]
        assert a["worker_name"] == b["worker_name"] and not had_message(b["id"])
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        job = engine.drain(job_id, timeout=60)  # the reaper finds b's lease expired
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    assert job["status"] == "completed"
    by_step = Counter((a["step_key"], a["status"]) for a in engine.attempts(job_id))
    assert by_step == {
        ("a", "completed"): 1,
        ("b", "lost"): 1,
        ("b", "completed"): 1,
        ("c", "completed"): 1,
    }
    lost = engine.attempts(job_id, "b")[0]
    assert lost["error_type"] == "LeaseExpired"


def _with_retry() -> list[dict[str, Any]]:
    return [
        {"key": "a", "action": "test.noop"},
        {"key": "b", "action": "test.sleep_first_attempt", "depends_on": ["a"], "retry": RETRY},
        {"key": "c", "action": "test.noop", "depends_on": ["b"]},
    ]


def _wait_for_marker(directory: Path, prefix: str, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in directory.glob(prefix + "*"):
            return int(f.name.rsplit(".", 1)[1])
        time.sleep(0.02)
    raise AssertionError(f"no marker {prefix} in {directory}")


def test_continued_step_keeps_its_timeout(engine: Engine) -> None:
    engine.register(
        {
            "name": "cont-timeout",
            "steps": [
                {"key": "a", "action": "test.noop"},
                {
                    "key": "b",
                    "action": "test.sleep",
                    "params": {"seconds": 5},
                    "timeout_seconds": 0.5,
                    "retry": {"max_attempts": 1},
                    "depends_on": ["a"],
                },
            ],
        }
    )
    job_id = engine.create("cont-timeout")
    started = time.monotonic()
    work_continuing()
    assert time.monotonic() - started < 4
    b = engine.attempts(job_id, "b")
    assert [x["status"] for x in b] == ["timed_out"] and not had_message(b[0]["id"])
    assert engine.job(job_id)["status"] == "failed"


def test_sigterm_during_a_continued_step_is_a_warm_shutdown(engine: Engine) -> None:
    """The worker stays busy for rq while it runs a continued step: SIGTERM lets that step
    finish, continues nothing more (the next step goes through rq) and ends the worker."""
    engine.register(
        {
            "name": "warm",
            "steps": [
                {"key": "a", "action": "test.noop"},
                {"key": "b", "action": "test.sleep", "params": {"seconds": 2}, "depends_on": ["a"]},
                {"key": "c", "action": "test.noop", "depends_on": ["b"]},
            ],
        }
    )
    job_id = engine.create("warm")
    with engine.running_worker(simple=True) as worker:
        wait_for(lambda: engine.steps(job_id)["b"]["status"] == "running", what="b running")
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    b = engine.attempts(job_id, "b")
    assert [x["status"] for x in b] == ["completed"] and not had_message(b[0]["id"])
    c = engine.attempts(job_id, "c")
    assert [x["status"] for x in c] == ["queued"] and had_message(c[0]["id"])
    work_continuing()
    assert engine.job(job_id)["status"] == "completed"


def test_rq_heartbeats_are_skipped_only_while_the_worker_key_lives_as_long(
    engine: Engine,
) -> None:
    """workers.worker trims rq's repeated heartbeats, never below what rq asked for."""
    plain = step_queue()
    queue = ResilientQueue(plain.name, connection=plain.connection, serializer=plain.serializer)
    worker = ContinuingBurstWorker([queue], connection=redis_client(), serializer=queue.serializer)
    redis = redis_client()
    worker.heartbeat(100)
    assert 90 < redis.ttl(worker.key) <= 100
    worker.heartbeat(50)  # within a second, and the key already lives longer: skipped
    assert redis.ttl(worker.key) > 60
    worker.heartbeat(500)  # asks for longer: sent
    assert redis.ttl(worker.key) > 400
    with redis.pipeline() as pipe:  # rq's own pipelines may shorten it
        worker.heartbeat(10, pipeline=pipe)
        pipe.execute()
    assert redis.ttl(worker.key) <= 10
    worker.heartbeat(100)  # so this one is sent although the last was under a second ago
    assert redis.ttl(worker.key) > 90
    redis.delete(worker.key)
