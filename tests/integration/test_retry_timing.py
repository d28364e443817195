"""Retries honour their policy: attempt n+1 starts `backoff x factor^(n-1)` after attempt n
failed, never before, and within a fraction of a second after (the retry timer of the worker
that recorded the failure, not the reaper's next pass: no reaper runs here); the process's
timer follows a change of database (the test suite's, between tests)."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from backend.jobs import retry_timer
from tests.conftest import _admin, _db_url, _reset
from tests.integration.conftest import Engine, chain, wait_for

BACKOFF, FACTOR = 0.4, 2.0
LATE_AT_MOST = 0.5  # seconds: the aim is ~0.1; generous for a loaded machine


@pytest.mark.slow
@pytest.mark.parametrize("simple", [True, False], ids=["SimpleWorker", "Worker"])
def test_retries_start_at_their_due_time(engine: Engine, simple: bool) -> None:
    retry = {"max_attempts": 3, "backoff_seconds": BACKOFF, "factor": FACTOR}
    engine.register(
        chain("backoff", "a", action="test.flaky", retry=retry, params={"fail_times": 2})
    )
    job_id = engine.create("backoff")
    worker = engine.spawn_worker(simple=simple, burst=False)
    try:
        deadline = time.monotonic() + 30
        while engine.job(job_id)["status"] != "completed":
            assert time.monotonic() < deadline, engine.attempts(job_id)
            time.sleep(0.05)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    attempts = sorted(engine.attempts(job_id), key=lambda a: a["attempt_number"])
    assert [a["status"] for a in attempts] == ["failed", "failed", "completed"]
    lateness = []
    for n in (1, 2):
        failed, following = attempts[n - 1], attempts[n]
        due = failed["finished_at"].timestamp() + BACKOFF * FACTOR ** (n - 1)
        created = following["created_at"].timestamp()
        assert created >= due, f"attempt {n + 1} started {due - created:.3f} s early"
        lateness.append(created - due)
        assert following["started_at"].timestamp() - due < LATE_AT_MOST + 0.5
    assert max(lateness) < LATE_AT_MOST, lateness
    print(f"retries started {', '.join(f'{x * 1000:.0f} ms' for x in lateness)} after due")


def test_the_process_timer_follows_a_change_of_database(
    engine: Engine, template_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process: the timer has started a retry in another database (an earlier test's);
    after the settings' reset, the next retry starts in the current one, not over the
    connection to the old one (where it would find nothing and be left to the reaper)."""
    current = os.environ["JOBMONITOR_DATABASE_URL"]
    other = f"jmt_{uuid.uuid4().hex[:10]}_other"
    _admin(f'CREATE DATABASE "{other}" TEMPLATE "{template_db}"')
    try:
        monkeypatch.setenv("JOBMONITOR_DATABASE_URL", _db_url(other))
        _reset()
        retry_timer.process_timer().schedule(uuid.uuid4(), uuid.uuid4(), 0.0)
        time.sleep(0.5)  # the timer connects to the other database and finds no such job
        monkeypatch.setenv("JOBMONITOR_DATABASE_URL", current)
        _reset()

        engine.register(
            chain(
                "again", "a", action="test.flaky", retry={"max_attempts": 2, "backoff_seconds": 0.2}
            )
        )
        job_id = engine.create("again", {"fail_times": 1})
        engine.work()  # attempt 1 fails; this process's timer holds the retry (no reaper here)
        wait_for(lambda: len(engine.attempts(job_id)) == 2, 10, "the retry's new attempt")
        engine.work()
        assert engine.job(job_id)["status"] == "completed"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)')
