"""Hard limits for both worker classes: a step that swallows its timeout's interrupt is
killed after a grace period and recorded as timed out (its worker process replaced), and a
step that holds the GIL longer than the lease is not declared lost and run again while it
still runs (the watchdog beats from outside its interpreter)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from backend.settings import reset_settings
from tests.integration.conftest import Engine, chain
from tests.unit.test_supervisor import alive

GRACE = 1.0


def _wait_terminal(engine: Engine, jobs: list[uuid.UUID], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(engine.job(j)["status"] in ("completed", "failed", "cancelled") for j in jobs):
            return
        time.sleep(0.1)
    raise AssertionError([engine.attempts(j) for j in jobs])


@pytest.mark.slow
@pytest.mark.parametrize("simple", [True, False], ids=["SimpleWorker", "Worker"])
def test_a_step_that_swallows_its_timeout_is_killed(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, simple: bool
) -> None:
    monkeypatch.setenv("JOBMONITOR_TIMEOUT_GRACE", str(GRACE))
    reset_settings()
    engine.register(
        chain(
            "stubborn",
            "a",
            action="test.swallow_interrupts",
            timeout_seconds=1,
            params={"seconds": 60},
        )
    )
    engine.register(chain("plain", "a", "b", action="test.echo"))
    worker = engine.spawn_worker(simple=simple, burst=False)
    try:
        stubborn = engine.create("stubborn", {"marker_dir": str(tmp_path)})
        _wait_terminal(engine, [stubborn], timeout=30)
        plain = engine.create("plain")
        _wait_terminal(engine, [plain], timeout=30)
        assert worker.poll() is None, "the worker group exited"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert engine.job(stubborn)["status"] == "failed"
    [attempt] = engine.attempts(stubborn)
    assert attempt["status"] == "timed_out" and attempt["error_type"] == "StepTimeout"
    assert "did not stop; its process was killed" in attempt["error_message"]
    ran = (attempt["finished_at"] - attempt["started_at"]).total_seconds()
    assert 1 + GRACE <= ran < 1 + GRACE + 5, ran
    assert engine.steps(stubborn)["a"]["status"] == "timed_out"
    assert engine.job(plain)["status"] == "completed"
    killed_pid = int(next(tmp_path.iterdir()).read_text())  # the process that ran the step
    assert not alive(killed_pid)
    if simple:  # the SimpleWorker itself was killed: another process ran the next job
        assert {a["pid"] for a in engine.attempts(plain)} != {attempt["pid"]}
    print(f"swallowed timeout of 1 s, grace {GRACE:g} s: recorded after {ran:.1f} s")


@pytest.mark.slow
@pytest.mark.parametrize("simple", [True, False], ids=["SimpleWorker", "Worker"])
def test_a_step_holding_the_gil_past_its_lease_runs_once(
    engine: Engine, tmp_path: Path, simple: bool
) -> None:
    engine.register(
        chain(
            "gil",
            "a",
            action="test.hold_gil",
            params={"seconds": 6},  # the lease is 3 s
            retry={"max_attempts": 2, "backoff_seconds": 0},
        )
    )
    job_id = engine.create("gil", {"marker_dir": str(tmp_path)})
    reaper = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "reaper", "--interval", "0.3"],
        env=dict(os.environ),
        start_new_session=True,
    )
    workers = [engine.spawn_worker(simple=simple, burst=False) for _ in range(2)]
    try:
        _wait_terminal(engine, [job_id], timeout=90)
    finally:
        for process in (reaper, *workers):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    attempts = engine.attempts(job_id)
    assert [a["status"] for a in attempts] == ["completed"], attempts
    assert len(list(tmp_path.iterdir())) == 1  # it ran once
    held = engine.steps(job_id)["a"]["output_data"]["held_seconds"]
    assert held > 3, held  # longer than the lease, or the test proves nothing
    print(f"held the GIL {held} s with a 3 s lease: one attempt")
