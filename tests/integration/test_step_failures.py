"""A step's failure is recorded as that step's failure, at once: output PostgreSQL cannot
store (NaN, Infinity, NUL, too large, not JSON), SystemExit, KeyboardInterrupt and an
exception that cannot be printed. No worker exits, nothing waits for a lease, nothing is
run again silently, and ordinary jobs beside them complete."""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import Any

import pytest

from backend.settings import reset_settings
from tests.integration.conftest import Engine, chain

CASES: dict[str, tuple[str, str]] = {  # action: (error_type, error_message contains)
    "test.nan_output": ("OutputNotStorable", "NaN at $.stats.mean"),
    "test.infinity_output": ("OutputNotStorable", "-Infinity at $.values[1]"),
    "test.nul_output": ("OutputNotStorable", "a NUL character at $.rows[0].name"),
    "test.huge_output": ("OutputNotStorable", "over the limit of 1000 bytes"),
    "test.bad_output": ("OutputNotStorable", 'a value of type object (not JSON) at $["not json"]'),
    "test.system_exit": ("SystemExit", "the step called exit(3)"),
    "test.keyboard_interrupt": ("KeyboardInterrupt", "KeyboardInterrupt raised by the step"),
    "test.unprintable_error": ("Unprintable", "its str() and repr() raised"),
}


def _bad_and_ordinary_jobs(engine: Engine) -> tuple[dict[str, uuid.UUID], list[uuid.UUID]]:
    suffix = uuid.uuid4().hex[:6]
    bad = {}
    for action in CASES:
        name = f"{action.split('.')[1]}_{suffix}"
        engine.register(
            chain(name, "a", action=action, retry={"max_attempts": 2, "backoff_seconds": 0})
        )
        bad[action] = engine.create(name)
    engine.register(chain(f"ordinary_{suffix}", "a", "b", action="test.echo"))
    ordinary = [engine.create(f"ordinary_{suffix}") for _ in range(4)]
    return bad, ordinary


def _wait_terminal(engine: Engine, jobs: list[uuid.UUID], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(engine.job(j)["status"] in ("completed", "failed") for j in jobs):
            return
        time.sleep(0.1)
    raise AssertionError([engine.job(j)["status"] for j in jobs])


def _check(engine: Engine, bad: dict[str, uuid.UUID], ordinary: list[uuid.UUID]) -> None:
    for action, job_id in bad.items():
        error_type, message = CASES[action]
        job = engine.job(job_id)
        assert job["status"] == "failed", (action, job)
        attempts = engine.attempts(job_id)
        # its own error, on each of its two attempts (the policy's retry), never `lost`
        assert [a["status"] for a in attempts] == ["failed", "failed"], (action, attempts)
        for attempt in attempts:
            assert attempt["error_type"] == error_type, (action, attempt)
            assert message in attempt["error_message"], (action, attempt["error_message"])
            ran = (attempt["finished_at"] - attempt["started_at"]).total_seconds()
            assert ran < 2.5, (action, ran)  # recorded at once, not at the lease's end (3 s)
        assert message in job["error_message"]
    for job_id in ordinary:
        assert engine.job(job_id)["status"] == "completed"
        assert [a["status"] for a in engine.attempts(job_id)] == ["completed", "completed"]


@pytest.fixture
def small_outputs(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBMONITOR_MAX_OUTPUT_BYTES", "1000")
    reset_settings()


@pytest.mark.slow
@pytest.mark.parametrize("simple", [True, False], ids=["SimpleWorker", "Worker"])
def test_step_failures_are_recorded_and_no_worker_exits(
    engine: Engine, small_outputs: None, simple: bool
) -> None:
    bad, ordinary = _bad_and_ordinary_jobs(engine)
    worker = engine.spawn_worker(simple=simple, burst=False)
    try:
        _wait_terminal(engine, [*bad.values(), *ordinary])
        assert worker.poll() is None, "the worker exited"
        _check(engine, bad, ordinary)
        pids = {a["pid"] for j in [*bad.values(), *ordinary] for a in engine.attempts(j)}
        assert len(pids) == 1  # one worker process did them all, never replaced
        assert os.getpgid(pids.pop()) == worker.pid  # `jobmonitor worker`'s own
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def test_in_process_worker_records_them_too(engine: Engine, small_outputs: None) -> None:
    """The suite's in-process SimpleWorker (this very process) survives them as well."""
    bad, ordinary = _bad_and_ordinary_jobs(engine)
    for job_id in [*bad.values(), *ordinary]:
        engine.drain(job_id)
    _check(engine, bad, ordinary)


def test_nan_as_null_setting_stores_null(
    engine: Engine, small_outputs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBMONITOR_NAN_AS_NULL", "true")
    reset_settings()
    engine.register(chain("nan_ok", "a", action="test.nan_output"))
    job_id = engine.drain(engine.create("nan_ok"))["id"]
    output: Any = engine.steps(job_id)["a"]["output_data"]
    assert output == {"n": 3, "stats": {"mean": None, "max": 1.5}}
