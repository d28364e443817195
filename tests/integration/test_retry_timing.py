"""Retries honour their policy: attempt n+1 starts `backoff x factor^(n-1)` after attempt n
failed, never before, and within a fraction of a second after (the retry timer of the worker
that recorded the failure, not the reaper's next pass: no reaper runs here)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.integration.conftest import Engine, chain

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
