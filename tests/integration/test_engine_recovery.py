"""Crashes and lost transport: Postgres is the record, rq only carries messages."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis

from backend.jobs import reaper
from backend.queue import redis_client
from tests.integration.conftest import Engine, chain

RETRY = {"max_attempts": 3, "backoff_seconds": 0}


def _wait_for_marker(directory: Path, prefix: str, timeout: float = 20) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in directory.glob(prefix + "*"):
            return int(f.name.rsplit(".", 1)[1])  # the step's pid (the file may be empty yet)
        time.sleep(0.02)
    raise AssertionError(f"no marker {prefix} in {directory}")


def _finish_with_fresh_worker(engine: Engine, job_id: uuid.UUID, timeout: float = 40) -> dict:
    """Reap and work until the job is terminal, like `up` does with its reaper and workers."""
    return engine.drain(job_id, timeout=timeout)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["worker", "horse"])
def test_sigkill_mid_step_completes_through_new_attempt(
    engine: Engine, tmp_path: Path, target: str
) -> None:
    engine.register(
        {
            "name": "crashy",
            "steps": [
                {"key": "a", "action": "test.sleep_first_attempt", "retry": RETRY},
                {"key": "b", "action": "test.noop", "depends_on": ["a"]},
            ],
        }
    )
    job_id = engine.create("crashy", {"marker_dir": str(tmp_path), "sleep": 60})
    worker = engine.spawn_worker(simple=False, burst=False)
    try:
        horse_pid = _wait_for_marker(tmp_path, "a.1.")
        assert horse_pid != worker.pid  # the forking worker runs the step in a work horse
        if target == "worker":  # the worker and its horse (rq puts the horse in its own session)
            os.killpg(worker.pid, signal.SIGKILL)
            os.kill(horse_pid, signal.SIGKILL)
        else:
            os.kill(horse_pid, signal.SIGKILL)  # only the horse; the worker lives on
        job = _finish_with_fresh_worker(engine, job_id)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert job["status"] == "completed"
    attempts = engine.attempts(job_id, "a")
    assert [a["status"] for a in attempts] == ["lost", "completed"]
    # a dead worker is found by its lease expiring; a dead horse by its living parent, at once
    assert attempts[0]["error_type"] == ("LeaseExpired" if target == "worker" else "WorkHorseDied")
    assert sum(a["status"] == "completed" for a in engine.attempts(job_id)) == 2  # a once, b once
    assert engine.steps(job_id)["b"]["status"] == "completed"


@pytest.mark.slow
def test_sigkill_simple_worker(engine: Engine, tmp_path: Path) -> None:
    engine.register(chain("crashy2", "a", action="test.sleep_first_attempt", retry=RETRY))
    job_id = engine.create("crashy2", {"marker_dir": str(tmp_path), "sleep": 60})
    worker = engine.spawn_worker(simple=True, burst=False)
    try:
        # in a worker process of `jobmonitor worker`'s group (no horse: not a group of its own)
        assert os.getpgid(_wait_for_marker(tmp_path, "a.1.")) == worker.pid
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        job = _finish_with_fresh_worker(engine, job_id)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    assert job["status"] == "completed"
    assert [a["status"] for a in engine.attempts(job_id, "a")] == ["lost", "completed"]


def test_late_write_of_a_lost_attempt_is_rejected(engine: Engine, tmp_path: Path) -> None:
    """A worker that comes back after its lease was declared lost cannot write its result."""
    from backend.jobs import attempts
    from backend.jobs.outbox import Outbox
    from backend.queue import AttemptRef

    engine.register(chain("fenced", "a", action="test.noop", retry=RETRY))
    job_id = engine.create("fenced")
    row = engine.attempts(job_id, "a")[0]
    ref = AttemptRef(row["id"], row["step_id"], row["job_id"])
    with engine.conn.transaction():
        claim = attempts.claim(engine.conn, ref, "w1", 1, 0.2, Outbox())
    time.sleep(0.4)
    report = reaper.reap(engine.conn)
    assert report.lost == [row["id"]]
    with pytest.raises(attempts.NotRunnable), engine.conn.transaction():
        attempts.finish_success(engine.conn, claim, {"late": True}, attempts.Records(), Outbox())
    job = engine.drain(job_id)
    assert job["status"] == "completed"
    step = engine.steps(job_id)["a"]
    assert step["output_data"] != {"late": True}
    assert [a["status"] for a in engine.attempts(job_id, "a")] == ["lost", "completed"]


def test_redis_flushed_while_jobs_queued(engine: Engine, redis_url: str) -> None:
    engine.register(
        {
            "name": "fan",
            "steps": [
                {"key": "a", "action": "test.echo"},
                {"key": "b", "action": "test.echo", "depends_on": ["a"]},
                {"key": "c", "action": "test.echo", "depends_on": ["a"]},
            ],
        }
    )
    jobs = [engine.create("fan", {"i": i}) for i in range(5)]
    Redis.from_url(redis_url).flushdb()
    time.sleep(1.1)  # older than the reaper's grace for queued attempts
    report = reaper.reap(engine.conn, queued_grace_seconds=1.0)
    assert len(report.requeued) == 5
    for job_id in jobs:
        assert engine.drain(job_id)["status"] == "completed"
        assert all(s["status"] == "completed" for s in engine.steps(job_id).values())
        assert all(len(engine.attempts(job_id, k)) == 1 for k in "abc")


def test_duplicate_message_runs_the_step_once(engine: Engine) -> None:
    from backend.jobs.outbox import Outbox
    from backend.queue import AttemptRef, Dispatch

    engine.register(chain("dup", "a"))
    job_id = engine.create("dup")
    row = engine.attempts(job_id, "a")[0]
    Outbox(dispatches=[Dispatch(AttemptRef(row["id"], row["step_id"], row["job_id"]))]).flush(
        None
    )  # rq now holds the same attempt twice
    engine.drain(job_id)
    assert [a["status"] for a in engine.attempts(job_id, "a")] == ["completed"]
    assert [e["type"] for e in engine.events(job_id)].count("step_started") == 1


@pytest.mark.parametrize("simple", [True, False])
def test_step_started_is_published_while_a_long_step_runs(engine: Engine, simple: bool) -> None:
    """A claim's events wait up to PUBLISH_DELAY to travel with a quick step's outcome; a long
    step's are published while it runs (by the heartbeat, in the work horse when forking)."""
    import json

    from backend.events import channel

    engine.register(chain("long_pub", "a", action="test.sleep", params={"seconds": 1.5}))
    pubsub = redis_client().pubsub()
    pubsub.subscribe(channel(engine.workspace_id))
    job_id = engine.create("long_pub")
    worker = engine.spawn_worker(simple=simple)
    try:
        seen: list[str] = []
        deadline = time.monotonic() + 20
        while "step_started" not in seen and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.2)
            if message and message["type"] == "message":
                seen.append(json.loads(message["data"])["type"])
        assert "step_started" in seen
        assert "step_completed" not in seen  # it arrived while the step was still running
        assert engine.steps(job_id)["a"]["status"] == "running"
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        pubsub.close()
    assert engine.job(job_id)["status"] == "completed"
