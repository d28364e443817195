"""Workers (SimpleWorker and forking Worker), the reaper, the heartbeat and the publisher
survive their dependencies going away: a PostgreSQL restart, terminated connections and a
20 s Redis outage. No process exits, every job completes, each step commits exactly one
success, nothing is declared lost, and each outage is one log line (no traceback per retry).
The servers are private to these tests (tests.integration.private_servers)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import Engine, chain
from tests.integration.private_servers import (
    Process,
    Servers,
    private_engine,
    private_env,
    reconnect,
    servers,
)

__all__ = ["private_engine", "private_env", "servers"]  # fixtures used below

OUTAGE = 20.0  # seconds
STEPS = ("a", "b", "c")
RETRY = {"max_attempts": 3, "backoff_seconds": 0}


@pytest.fixture
def fleet(private_engine: Engine, tmp_path: Path) -> Iterator[list[Process]]:
    """A SimpleWorker, a forking worker and the reaper, as separate long-lived processes."""
    processes = [
        Process(tmp_path, "simple-worker", "worker", "--simple"),
        Process(tmp_path, "forking-worker", "worker"),
        Process(tmp_path, "reaper", "reaper"),
    ]
    yield processes
    for process in processes:
        process.stop()
        print(f"--- {process.log_path.name}\n{process.output()}")  # shown when a test fails


def _jobs(engine: Engine, count: int, seconds: float) -> list[uuid.UUID]:
    name = f"steady_{uuid.uuid4().hex[:6]}"
    engine.register(
        chain(name, *STEPS, action="test.sleep", params={"seconds": seconds}, retry=RETRY)
    )
    return [engine.create(name) for _ in range(count)]


def _wait_running(engine: Engine, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = engine.conn.execute(
            "SELECT count(*) AS n FROM step_attempts WHERE status = 'running'"
        ).fetchone()
        if row and row["n"] >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} steps running after {timeout}s")


def _check_all_done_once(url: str, jobs: list[uuid.UUID], timeout: float = 90) -> float:
    """Wait until every job completed; check exactly one committed success per step and no
    lost attempt. Returns the seconds it took."""
    started = time.monotonic()
    with reconnect(url) as conn:
        while True:
            rows = conn.execute("SELECT status FROM jobs WHERE id = ANY(%s)", (jobs,)).fetchall()
            if all(r["status"] == "completed" for r in rows):
                break
            assert time.monotonic() - started < timeout, [r["status"] for r in rows]
            time.sleep(0.1)
        attempts = conn.execute(
            """SELECT step_id, status, error_type FROM step_attempts WHERE job_id = ANY(%s)""",
            (jobs,),
        ).fetchall()
    completed: dict[uuid.UUID, int] = {}
    for a in attempts:
        completed[a["step_id"]] = completed.get(a["step_id"], 0) + (a["status"] == "completed")
    assert len(completed) == len(jobs) * len(STEPS)
    assert set(completed.values()) == {1}
    assert [a for a in attempts if a["status"] != "completed"] == []
    return time.monotonic() - started


def _check_logs(processes: list[Process], dependency: str) -> None:
    for process in processes:
        assert process.alive, f"{process.log_path.name} exited:\n{process.output()}"
        text = process.output()
        assert "Traceback" not in text, text
        down = [line for line in text.splitlines() if f"{dependency} unavailable" in line]
        assert 1 <= len(down) <= 4, f"{process.log_path.name}:\n{text}"  # per process, thread
        assert f"{dependency} is back" in text, text


def _outage(servers: Servers, engine: Engine, fleet: list[Process], dependency: str) -> float:
    """Stop `dependency` for OUTAGE seconds under running steps, start it again, and return
    how long the jobs took to finish after it came back."""
    jobs = _jobs(engine, 4, 1.5)
    _wait_running(engine, 2)
    server = servers.postgres if dependency == "PostgreSQL" else servers.redis
    server.stop()
    time.sleep(OUTAGE)
    assert all(p.alive for p in fleet), [p.output() for p in fleet if not p.alive]
    server.start_again()
    recovery = _check_all_done_once(servers.postgres.url, jobs)
    print(
        f"{dependency} down {OUTAGE:.0f} s: all jobs completed {recovery:.1f} s after it came back"
    )
    return recovery


@pytest.mark.slow
def test_postgres_restart_under_running_steps(
    servers: Servers, private_engine: Engine, fleet: list[Process]
) -> None:
    _outage(servers, private_engine, fleet, "PostgreSQL")
    _check_logs(fleet, "PostgreSQL")


@pytest.mark.slow
def test_redis_outage_under_running_steps(
    servers: Servers, private_engine: Engine, fleet: list[Process]
) -> None:
    _outage(servers, private_engine, fleet, "Redis")
    _check_logs(fleet[:2], "Redis")  # the reaper touches Redis only when it has work
    assert fleet[2].alive and "Traceback" not in fleet[2].output()


@pytest.mark.slow
def test_terminated_connections_mid_step(
    servers: Servers, private_engine: Engine, fleet: list[Process]
) -> None:
    jobs = _jobs(private_engine, 4, 1.0)
    for _ in range(3):
        _wait_running(private_engine, 1)
        private_engine.conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        time.sleep(1.0)
    _check_all_done_once(servers.postgres.url, jobs)
    for process in fleet:
        assert process.alive, process.output()
        assert "Traceback" not in process.output(), process.output()
