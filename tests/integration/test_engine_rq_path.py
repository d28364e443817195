"""The short path of a step message through rq (workers.worker): what Redis says about a step
message while and after it runs, with SimpleWorker and with the forking Worker (whose work
horse runs only the step), and a message whose worker died between taking it and committing
its claim, which the reaper enqueues again once the message's key has expired."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from rq.job import Job as RqJob
from rq.job import JobStatus as RqStatus
from rq.registry import FinishedJobRegistry, StartedJobRegistry
from rq.worker import WorkerStatus

from backend.jobs import reaper
from backend.queue import is_waiting, redis_client, step_queue
from tests.integration.conftest import (
    ContinuingBurstWorker,
    Engine,
    chain,
    wait_for,
    work_continuing,
)
from workers import worker as worker_module
from workers.worker import ResilientQueue


def _queue() -> ResilientQueue:
    plain = step_queue()
    return ResilientQueue(plain.name, connection=plain.connection, serializer=plain.serializer)


def test_a_step_message_ends_finished_out_of_the_queue_with_the_worker_idle(
    engine: Engine,
) -> None:
    engine.register(chain("short", "a", action="test.noop"))
    job_id = engine.create("short")
    attempt = engine.attempts(job_id, "a")[0]
    work_continuing()
    assert engine.job(job_id)["status"] == "completed"
    redis, queue = redis_client(), _queue()
    message = RqJob.fetch(str(attempt["id"]), connection=redis, serializer=queue.serializer)
    assert message.get_status(refresh=False) == RqStatus.FINISHED
    assert 0 < redis.ttl(message.key) <= worker_module.RESULT_TTL  # kept as rq keeps a result
    assert not is_waiting(queue, attempt["id"])
    assert redis.llen(queue.intermediate_queue_key) == 0 and queue.count == 0


def test_a_step_longer_than_the_claim_window_leaves_no_stray_message_key(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The taken message's key has expired by the time such a step ends: nothing writes it
    again (a status write alone would leave a hash of that one field)."""
    monkeypatch.setattr(worker_module, "CLAIM_WINDOW", 1)
    engine.register(chain("slow", "a", action="test.sleep", params={"seconds": 1.5}))
    job_id = engine.create("slow")
    attempt = engine.attempts(job_id, "a")[0]
    work_continuing()
    assert engine.job(job_id)["status"] == "completed"
    assert not redis_client().exists(f"rq:job:{attempt['id']}")
    assert redis_client().llen(_queue().intermediate_queue_key) == 0


def test_a_message_whose_worker_died_before_its_claim_is_enqueued_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.register(chain("taken", "a", "b", action="test.noop"))
    job_id = engine.create("taken")
    attempt = engine.attempts(job_id, "a")[0]
    monkeypatch.setattr(worker_module, "CLAIM_WINDOW", 2)
    queue = _queue()
    worker = ContinuingBurstWorker([queue], connection=redis_client(), serializer=queue.serializer)
    taken = queue.dequeue_any(
        [queue], None, connection=queue.connection, serializer=queue.serializer
    )
    assert taken is not None and taken[0].id == str(attempt["id"])
    worker._take(*taken)  # ...and the worker dies here, before its claim
    assert worker.get_state() == WorkerStatus.BUSY
    assert is_waiting(queue, attempt["id"])  # in flight: the reaper leaves it alone
    assert reaper.reap(engine.conn, queued_grace_seconds=0).requeued == []
    time.sleep(2.5)  # the taken message's key expires
    assert not is_waiting(queue, attempt["id"])
    assert reaper.reap(engine.conn, queued_grace_seconds=0).requeued == [attempt["id"]]
    work_continuing()
    assert engine.job(job_id)["status"] == "completed"
    by_step = Counter((a["step_key"], a["status"]) for a in engine.attempts(job_id))
    assert by_step == {("a", "completed"): 1, ("b", "completed"): 1}


def test_the_forking_worker_runs_each_step_in_a_horse_that_leaves_redis_alone(
    engine: Engine, tmp_path: Path
) -> None:
    engine.register(chain("forked", "a", "b", "c", action="test.sleep", params={"seconds": 0}))
    job_id = engine.create("forked", {"marker_dir": str(tmp_path)})
    worker = engine.spawn_worker(simple=False, burst=True)
    assert worker.wait(timeout=60) == 0
    assert engine.job(job_id)["status"] == "completed"
    horses = {p.name.split(".")[0]: int(p.name.split(".")[2]) for p in tmp_path.iterdir()}
    assert sorted(horses) == ["a", "b", "c"]
    assert worker.pid not in horses.values() and len(set(horses.values())) == 3  # one per step
    redis, queue = redis_client(), _queue()
    for step in ("a", "b", "c"):
        attempt = engine.attempts(job_id, step)[0]
        assert attempt["status"] == "completed" and attempt["worker_name"]
        message = RqJob.fetch(str(attempt["id"]), connection=redis, serializer=queue.serializer)
        assert message.get_status(refresh=False) == RqStatus.FINISHED
        assert 0 < redis.ttl(message.key) <= worker_module.RESULT_TTL
        assert not redis.exists(f"rq:results:{message.id}")  # no result stream: PostgreSQL has it
    for registry in (StartedJobRegistry, FinishedJobRegistry):
        assert registry(queue=queue).count == 0  # rq's horse bookkeeping was skipped
    assert redis.llen(queue.intermediate_queue_key) == 0 and queue.count == 0


def test_sigterm_lets_the_forking_workers_step_finish_and_ends_the_worker(
    engine: Engine,
) -> None:
    """The parent waits for its own horse: a SIGTERM meanwhile is a warm shutdown (rq sees the
    worker busy), the step completes and is recorded, the next step waits in the queue."""
    engine.register(
        {
            "name": "warm-fork",
            "steps": [
                {"key": "a", "action": "test.sleep", "params": {"seconds": 2}},
                {"key": "b", "action": "test.noop", "depends_on": ["a"]},
            ],
        }
    )
    job_id = engine.create("warm-fork")
    with engine.running_worker(simple=False) as worker:
        wait_for(lambda: engine.steps(job_id)["a"]["status"] == "running", what="a running")
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    assert [x["status"] for x in engine.attempts(job_id, "a")] == ["completed"]
    b = engine.attempts(job_id, "b")
    assert [x["status"] for x in b] == ["queued"] and is_waiting(_queue(), b[0]["id"])
    work_continuing()
    assert engine.job(job_id)["status"] == "completed"
