"""The step hot path's shortcuts keep the engine's guarantees: pipelined transactions roll back
and recover, only a message queued in a pending job may start it, and the claim's commit is
the one that does not wait for its WAL flush."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from rq.job import Job as RqJob

from backend.db import connect, pipelined_transaction, worker_connection
from backend.jobs import attempts
from backend.jobs.attempts import NotRunnable, Records
from backend.jobs.outbox import Outbox
from backend.queue import AttemptRef, step_queue
from tests.integration.conftest import Engine, chain


def _ref(engine: Engine, job_id: uuid.UUID, key: str, starts_job: bool = True) -> AttemptRef:
    row = engine.attempts(job_id, key)[-1]
    return AttemptRef(row["id"], row["step_id"], row["job_id"], starts_job)


def test_pipelined_transaction_commits_rolls_back_and_recovers(engine: Engine) -> None:
    conn = worker_connection()
    with pipelined_transaction(conn):
        conn.execute(
            "UPDATE workspaces SET name = 'committed' WHERE id = %s", (engine.workspace_id,)
        )
    with pytest.raises(ValueError), pipelined_transaction(conn):
        conn.execute(
            "UPDATE workspaces SET name = 'rolled back' WHERE id = %s", (engine.workspace_id,)
        )
        raise ValueError("the caller changed its mind")
    assert not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with pytest.raises(psycopg.errors.DivisionByZero), pipelined_transaction(conn):
        conn.execute("UPDATE workspaces SET name = 'failed' WHERE id = %s", (engine.workspace_id,))
        conn.execute("SELECT 1 / 0").fetchone()
    assert conn.closed  # a failed pipeline's connection is not reused...
    fresh = worker_connection()  # ...the next caller gets a new one
    assert fresh is not conn and fresh.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    name = engine.conn.execute(
        "SELECT name FROM workspaces WHERE id = %s", (engine.workspace_id,)
    ).fetchone()
    assert name == {"name": "committed"}


def test_messages_say_whether_their_job_may_start(engine: Engine) -> None:
    engine.register(chain("flag", "a", "b"))
    job_id = engine.create("flag")
    first = _ref(engine, job_id, "a")
    message = RqJob.fetch(
        str(first.attempt_id),
        connection=step_queue().connection,
        serializer=step_queue().serializer,
    )
    assert message.args == [
        str(first.attempt_id),
        str(first.step_id),
        str(job_id),
        True,
    ]  # the job is pending
    conn = worker_connection()
    outbox = Outbox()
    with pipelined_transaction(conn):
        claim = attempts.claim(conn, first, "w1", 1, 30, outbox)
    with pipelined_transaction(conn):
        attempts.finish_success(conn, claim, {"ok": True}, Records(), outbox)
    assert [d.ref.starts_job for d in outbox.dispatches] == [False]  # b is queued in a running job
    outbox.flush(conn)
    assert engine.drain(job_id)["status"] == "completed"


def test_a_claim_that_may_not_start_its_job_changes_nothing(engine: Engine) -> None:
    """Only a message queued while the job was pending starts it; any other finds the job
    pending only if it is stale, and its claim is rolled back whole."""
    engine.register(chain("guarded", "a"))
    job_id = engine.create("guarded")
    conn = worker_connection()
    with pytest.raises(NotRunnable), pipelined_transaction(conn):
        attempts.claim(conn, _ref(engine, job_id, "a", starts_job=False), "w1", 1, 30, Outbox())
    assert engine.job(job_id)["status"] == "pending"
    assert engine.steps(job_id)["a"]["status"] == "queued"
    assert [a["status"] for a in engine.attempts(job_id, "a")] == ["queued"]
    assert engine.drain(job_id)["status"] == "completed"


def test_a_message_without_the_flag_still_runs(engine: Engine) -> None:
    """Messages queued by an earlier version carry three arguments."""
    engine.register(chain("old_message", "a"))
    job_id = engine.create("old_message")
    ref = _ref(engine, job_id, "a")
    queue = step_queue()
    queue.connection.delete(queue.key)  # replace the new message with an old-style one
    queue.enqueue_many(
        [
            queue.prepare_data(
                "workers.tasks.run_attempt",
                args=[str(ref.attempt_id), str(ref.step_id), str(job_id)],
                job_id=f"{ref.attempt_id}",
            )
        ]
    )
    engine.work()
    assert engine.job(job_id)["status"] == "completed"


def test_only_the_claim_commits_without_waiting_for_its_wal_flush(
    engine: Engine, env: dict[str, str]
) -> None:
    engine.register(chain("durable", "a"))
    job_id = engine.create("durable")
    with connect(autocommit=True) as conn:
        with conn.transaction():
            claim = attempts.claim(conn, _ref(engine, job_id, "a"), "w1", 1, 30, Outbox())
            assert conn.execute("SHOW synchronous_commit").fetchone() == {
                "synchronous_commit": "off"
            }
        with conn.transaction():
            attempts.finish_success(conn, claim, {"ok": True}, Records(), Outbox())
            assert conn.execute("SHOW synchronous_commit").fetchone() == {
                "synchronous_commit": "on"
            }
    assert engine.job(job_id)["status"] == "completed"
