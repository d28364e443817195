"""Deadlocks and serialization failures in engine transactions are retried a bounded number
of times (backend.db.retry_conflicts), and forced starts take their locks in the documented
order (backend.jobs.states), so claims racing them never kill a worker."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from typing import Any

import psycopg
import pytest

from backend.db import connect, retry_conflicts
from backend.jobs import service
from backend.jobs.outbox import Outbox
from backend.queue import AttemptRef
from tests.integration.conftest import Engine, chain
from workers.claimed import ClaimedAttempt


def _wait_for_lock_wait(conn: psycopg.Connection[Any], pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
        if row and row["wait_event_type"] == "Lock":
            return
        time.sleep(0.02)
    raise AssertionError("the claim never waited for the lock")


def test_a_claim_chosen_as_a_deadlocks_victim_is_tried_again(engine: Engine) -> None:
    engine.register(chain("locky", "a"))
    job_id = engine.create("locky")
    attempt = engine.attempts(job_id, "a")[0]
    ref = AttemptRef(attempt["id"], attempt["step_id"], job_id, True)
    claimed: dict[str, Any] = {}
    with connect(autocommit=True) as other:
        other.execute("BEGIN")
        other.execute("SELECT 1 FROM step_attempts WHERE id = %s FOR UPDATE", (attempt["id"],))

        def claim() -> None:
            from backend.db import worker_connection

            claimed["pid"] = worker_connection().info.backend_pid
            try:
                claimed["result"] = ClaimedAttempt.claim_attempt(ref, "w1")
            except BaseException as exc:
                claimed["error"] = exc

        thread = threading.Thread(target=claim)
        thread.start()
        while "pid" not in claimed:
            time.sleep(0.01)
        _wait_for_lock_wait(engine.conn, claimed["pid"])  # holds job + step, waits on attempt
        # the other transaction now waits on the step: a cycle; the claim waited first, so
        # its deadlock check fires first and it is the victim
        other.execute("SELECT 1 FROM job_steps WHERE id = %s FOR UPDATE", (attempt["step_id"],))
        other.execute("COMMIT")
        thread.join(timeout=30)
    assert "error" not in claimed, claimed.get("error")
    result = claimed["result"]
    assert result is not None and result.claim.attempt_id == attempt["id"]
    assert engine.attempts(job_id, "a")[0]["status"] == "running"


def test_retries_are_bounded() -> None:
    calls = {"n": 0}

    def always_deadlocks() -> None:
        calls["n"] += 1
        raise psycopg.errors.DeadlockDetected("deadlock detected")

    with pytest.raises(psycopg.errors.DeadlockDetected):
        retry_conflicts(always_deadlocks, tries=3)
    assert calls["n"] == 3


@pytest.mark.slow
def test_forced_starts_racing_claims(engine: Engine) -> None:
    """Forced starts (each cancels the running job and creates one) beside two real workers
    claiming: no worker exits, no create fails, every job ends consistently."""
    name = f"forced_{uuid.uuid4().hex[:6]}"
    definition = chain(name, "a", "b", action="test.noop")
    definition["concurrency"] = {"max_concurrent_jobs": 1}
    engine.register(definition)
    workers = [engine.spawn_worker(simple=s, burst=False) for s in (True, False)]
    created: list[uuid.UUID] = []
    errors: list[BaseException] = []

    def forced_starts() -> None:
        with connect(autocommit=True) as conn:
            for _ in range(40):

                def create() -> tuple[service.Created, Outbox]:
                    outbox = Outbox()  # a fresh one for each try of the transaction
                    with conn.transaction():
                        made = service.create_job(
                            conn, engine.workspace_id, name, None, outbox, force=True
                        )
                    return made, outbox

                try:
                    made, outbox = retry_conflicts(create)
                except BaseException as exc:
                    errors.append(exc)
                    continue
                created.append(made.job_id)
                outbox.flush(conn)

    try:
        threads = [threading.Thread(target=forced_starts) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            statuses = {engine.job(j)["status"] for j in created}
            if statuses <= {"completed", "cancelled"}:
                break
            time.sleep(0.1)
        assert statuses <= {"completed", "cancelled"}, statuses
        assert all(w.poll() is None for w in workers), "a worker exited"
        for job_id in created:  # never more than one committed success per step
            done = [a for a in engine.attempts(job_id) if a["status"] == "completed"]
            assert len(done) == len({a["step_id"] for a in done})
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGKILL)
            w.wait()
