"""doctor's checks and retention, against real services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend import doctor
from backend.errors import InvalidInput
from backend.jobs import retention
from backend.queue import redis_client
from tests.integration.conftest import Engine, chain


def _by_name(checks: list[dict]) -> dict[str, dict]:
    return {c["name"]: c for c in checks}


def test_doctor_reports_missing_workers_and_failures(engine: Engine) -> None:
    engine.register(chain("doomed", "a", action="test.flaky", retry={"max_attempts": 1}))
    engine.drain(engine.create("doomed", {"fail_times": 1}))
    engine.create("doomed", {"fail_times": 0})  # stays pending: no worker runs it
    checks = _by_name(doctor.run_checks(engine.conn, redis_client(), engine.workspace_id))
    assert checks["database"]["verdict"] == "ok"
    assert checks["migrations"]["verdict"] == "ok"
    assert checks["redis"]["verdict"] == "ok"
    assert checks["workers"]["verdict"] == "fail"
    assert checks["queue"]["data"]["depth"] == 1 and checks["queue"]["verdict"] == "warn"
    assert checks["pending jobs"]["data"]["by_workflow"] == {"doomed": 1}
    assert checks["failures (24 h)"]["data"]["by_error_type"] == {"RuntimeError": 1}
    assert checks["stuck attempts"]["verdict"] == "ok"


def test_doctor_finds_stuck_attempts(engine: Engine) -> None:
    engine.register(chain("stuck", "a"))
    job_id = engine.create("stuck")
    engine.conn.execute(
        "UPDATE step_attempts SET status = 'running', lease_expires_at = now() - interval '1 minute' WHERE job_id = %s",
        (job_id,),
    )
    checks = _by_name(doctor.run_checks(engine.conn, redis_client(), engine.workspace_id))
    assert checks["stuck attempts"]["verdict"] == "fail"
    assert checks["stuck attempts"]["data"]["attempts"][0]["job_id"] == str(job_id)


def test_prune_selects_only_old_finished_jobs(engine: Engine) -> None:
    engine.register(chain("old", "a", "b"))
    done = [engine.drain(engine.create("old"))["id"] for _ in range(3)]
    running = engine.create("old")
    engine.conn.execute(
        "UPDATE jobs SET completed_at = now() - interval '40 days' WHERE id = ANY(%s)", (done[:2],)
    )
    statuses = retention.check_statuses(None)
    ids = retention.select_batch(
        engine.conn, engine.workspace_id, timedelta(days=30), statuses, 100
    )
    assert sorted(ids) == sorted(done[:2])
    counts = retention.count_related(engine.conn, ids)
    assert counts["jobs"] == 2 and counts["job_steps"] == 4 and counts["step_attempts"] == 4
    assert counts["job_events"] > 0 and counts["step_logs"] > 0
    retention.delete_jobs(engine.conn, ids)
    left = {r["id"] for r in engine.conn.execute("SELECT id FROM jobs")}
    assert left == {done[2], running}
    assert (
        engine.conn.execute(
            "SELECT count(*) AS n FROM step_logs WHERE job_id = ANY(%s)", (ids,)
        ).fetchone()["n"]
        == 0
    )


def test_prune_refuses_unfinished_statuses_and_bad_ages() -> None:
    with pytest.raises(InvalidInput):
        retention.check_statuses(["running"])
    assert retention.parse_age("30d") == timedelta(days=30)
    assert retention.parse_age("12h") == timedelta(hours=12)
    for bad in ("30", "d", "-1d", "1y", "1.5d"):
        with pytest.raises(InvalidInput):
            retention.parse_age(bad)
