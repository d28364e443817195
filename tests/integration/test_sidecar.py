"""The SimpleWorker's sidecar watchdog (workers.watchdog) beats on its own schedule: a step
shorter than the heartbeat interval costs it no write of its own (the claim set a fresh lease).
tests/integration/test_hard_limits.py covers what it is for: long steps, timeouts, kills."""

from __future__ import annotations

import pytest

from backend.settings import reset_settings
from tests.integration.conftest import Engine, chain


def test_short_steps_cost_the_sidecar_no_database_write(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBMONITOR_HEARTBEAT_INTERVAL", "120")  # no scheduled beat in this test
    reset_settings()
    engine.register(chain("quick", "a", "b", "c", "d", "e", "f", action="test.noop"))
    job_id = engine.create("quick")
    worker = engine.spawn_worker(simple=True, burst=True)
    assert worker.wait(timeout=60) == 0
    assert engine.job(job_id)["status"] == "completed"
    rows = engine.conn.execute(
        "SELECT step_key, heartbeat_at = started_at AS only_claimed FROM step_attempts"
        " WHERE job_id = %s ORDER BY step_key",
        (job_id,),
    ).fetchall()
    assert [r["step_key"] for r in rows] == ["a", "b", "c", "d", "e", "f"]
    assert all(r["only_claimed"] for r in rows), rows  # the claim's beat and no other
