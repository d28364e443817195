"""doctor's worker, stuck-work and reaper checks against real workers, Redis and PostgreSQL:
missing and dead workers fail, starting ones only warn (issue 19: a freshly started system
must not fail on timing), expired leases fail only once a reaper pass has left them, and the
reaper's last pass and what it recovered are shown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from backend import doctor
from backend.jobs.reaper import reap_and_record
from backend.queue import announce_start, redis_client
from backend.settings import reset_settings
from tests.integration.conftest import Engine, chain, wait_for


def checks(engine: Engine) -> dict[str, dict[str, Any]]:
    return {
        c["name"]: c for c in doctor.run_checks(engine.conn, redis_client(), engine.workspace_id)
    }


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    def set_count(n: int) -> None:
        monkeypatch.setenv("JOBMONITOR_WORKERS", str(n))
        reset_settings()

    return set_count


def test_workers_are_compared_with_the_configured_count(
    engine: Engine, configured: Callable[[int], None]
) -> None:
    configured(2)
    worker = engine.spawn_worker(burst=False)
    try:
        # registered, and its start announcement cleared (a thread of the worker's does that)
        wait_for(
            lambda: (
                checks(engine)["workers"]["data"]["workers"]
                and not checks(engine)["workers"]["data"]["starting"]
            )
        )
        report = checks(engine)["workers"]
        assert report["verdict"] == "fail"
        assert (
            report["detail"].startswith("1 of 2 configured worker(s)")
            and "1 missing" in report["detail"]
        )
        configured(1)
        assert checks(engine)["workers"]["verdict"] == "ok"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def test_a_killed_worker_is_dead_and_fails(
    engine: Engine, configured: Callable[[int], None]
) -> None:
    configured(1)
    worker = engine.spawn_worker(burst=False)
    wait_for(lambda: checks(engine)["workers"]["verdict"] == "ok")
    os.killpg(worker.pid, signal.SIGKILL)  # rq keeps its registration until the key expires
    worker.wait()
    report = checks(engine)["workers"]
    assert report["verdict"] == "fail" and "dead worker" in report["detail"]
    assert len(report["data"]["dead"]) == 1  # the group's worker (a child of `worker.pid`)
    assert report["data"]["workers"] == []


def test_a_fresh_system_warns_while_workers_start_and_never_fails(
    engine: Engine, configured: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `up` does: announce the workers, then start them. Until they register, doctor
    says 'starting' (warn), however long the machine takes; then ok."""
    configured(2)
    engine.register(chain("waiting", "a"))
    engine.create("waiting")  # pending work, and no worker yet
    monkeypatch.setenv("JOBMONITOR_WORKER_START_ID", "up.test")
    reset_settings()
    announce_start(redis_client(), "up.test", 2)
    seen: list[tuple[str, str, str]] = []
    argv = [sys.executable, "-m", "cli.main", "worker", "--count", "2", "--simple"]
    workers = subprocess.Popen(argv, env=dict(os.environ), start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while True:
            now = checks(engine)
            seen += [(n, now[n]["verdict"], now[n]["detail"]) for n in ("workers", "pending jobs")]
            if now["workers"]["verdict"] == "ok":
                break
            assert time.monotonic() < deadline, seen[-2:]
            time.sleep(0.05)
        assert not [s for s in seen if s[1] == "fail"], seen
        assert any("starting" in s[2] for s in seen if s[0] == "workers"), seen
        wait_for(lambda: not redis_client().keys("jobmonitor:workers-starting:*"))  # cleared
    finally:
        os.killpg(workers.pid, signal.SIGKILL)
        workers.wait()


def test_missing_workers_fail_once_no_start_is_announced(
    engine: Engine, configured: Callable[[int], None]
) -> None:
    configured(1)
    engine.register(chain("waiting", "a"))
    engine.create("waiting")
    key = announce_start(redis_client(), "someone", 1)
    now = checks(engine)
    assert now["workers"]["verdict"] == "warn" and now["pending jobs"]["verdict"] == "warn"
    redis_client().delete(key)
    now = checks(engine)
    assert now["workers"]["verdict"] == "fail" and "no worker listens" in now["workers"]["detail"]
    assert now["pending jobs"]["verdict"] == "fail"
    assert "no worker on their queue" in now["pending jobs"]["detail"]


def _expire(engine: Engine, job_id: Any, ago: str) -> None:
    engine.conn.execute(
        "UPDATE step_attempts SET status = 'running', lease_token = gen_random_uuid(),"
        f" lease_expires_at = now() - interval '{ago}' WHERE job_id = %s",
        (job_id,),
    )


def test_an_expired_lease_warns_until_a_reaper_pass_has_left_it(engine: Engine) -> None:
    engine.register(chain("stuck", "a"))
    job_id = engine.create("stuck")
    engine.conn.execute(
        "INSERT INTO reaper_passes (reaper, last_pass_at, passes) VALUES ('r', now() - interval '5 seconds', 1)"
    )
    _expire(engine, job_id, "1 second")  # expired after the last pass began: its turn comes
    assert checks(engine)["stuck attempts"]["verdict"] == "warn"
    _expire(engine, job_id, "1 minute")  # the last pass began after it expired and left it
    stuck = checks(engine)["stuck attempts"]
    assert stuck["verdict"] == "fail" and stuck["data"]["attempts"][0]["job_id"] == str(job_id)


def test_the_reaper_check_shows_its_last_pass_and_what_it_recovered(engine: Engine) -> None:
    assert checks(engine)["reaper"]["verdict"] == "warn"  # no pass recorded
    engine.register(chain("lost", "a", retry={"max_attempts": 2, "backoff_seconds": 0}))
    job_id = engine.create("lost")
    _expire(engine, job_id, "1 minute")
    attempt = engine.attempts(job_id)[0]["id"]
    report = reap_and_record(engine.conn, "host.1")
    assert report.lost == [attempt]
    reap_and_record(engine.conn, "host.1")  # a pass with nothing to do keeps the last recovery
    reaper = checks(engine)["reaper"]
    assert reaper["verdict"] == "ok"
    assert reaper["data"]["passes"] == 2 and reaper["data"]["recovered_total"] >= 1
    assert reaper["data"]["last_recovered"]["lost"] == [str(attempt)]
    assert "last recovery: 1 lost" in reaper["detail"]
    assert checks(engine)["stuck attempts"]["verdict"] == "ok"


def test_another_workspace_sees_the_reapers_counts_but_not_the_ids(engine: Engine) -> None:
    engine.register(chain("lost", "a", retry={"max_attempts": 2, "backoff_seconds": 0}))
    job_id = engine.create("lost")
    _expire(engine, job_id, "1 minute")
    reap_and_record(engine.conn, "host.1")
    other = Engine(engine.conn)
    mine, theirs = (
        {c["name"]: c for c in doctor.run_checks(e.conn, redis_client(), e.workspace_id)}["reaper"][
            "data"
        ]["last_recovered"]
        for e in (engine, other)
    )
    assert mine["lost"] == [str(engine.attempts(job_id)[0]["id"])]
    assert theirs["lost"] == [] and theirs["counts"] == mine["counts"]
