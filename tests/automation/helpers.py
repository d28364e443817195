"""Real processes and waits for the automation tests."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from backend.db import connect
from backend.schedules import service as schedules
from backend.schedules.schemas import ScheduleCreate
from tests.integration.conftest import Engine


def spawn(
    *args: str, env: dict[str, str] | None = None, stderr: IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    """`jobmonitor ARGS` as a real process with this test's environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, **(env or {})},
        stderr=stderr,
        start_new_session=True,
    )


@contextmanager
def schedulers(count: int = 1, interval: str = "0.1") -> Iterator[list[subprocess.Popen[bytes]]]:
    """Scheduler processes, once one has made its first pass over the event feed (events
    before a scheduler's very first pass are history it does not replay)."""
    processes = [spawn("scheduler", "--interval", interval) for _ in range(count)]
    try:
        for process in processes:  # a SIGTERM before that would kill it instead of stopping it
            wait_until(functools.partial(handles_sigterm, process.pid), 60, "its SIGTERM handler")
        with connect(autocommit=True) as conn:
            wait_until(
                lambda: conn.execute("SELECT 1 FROM automation_cursors").fetchone(),
                60,
                "the scheduler's first pass",
            )
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                assert process.wait(timeout=20) == 0, "the scheduler did not stop cleanly"
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                raise


def handles_sigterm(pid: int) -> bool:
    """Whether the process has installed a SIGTERM handler (its `SigCgt` mask in /proc)."""
    with open(f"/proc/{pid}/status") as status:
        caught = next(line for line in status if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def wait_until(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy (generous deadline, no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def add_schedule(engine: Engine, workflow: str, name: str, **fields: Any) -> Any:
    spec = ScheduleCreate(workflow=workflow, name=name, **fields)
    with engine.conn.transaction():
        return schedules.create_schedule(engine.conn, engine.workspace_id, spec).id


def fires(engine: Engine, schedule_id: Any) -> list[dict[str, Any]]:
    return engine.conn.execute(
        "SELECT * FROM schedule_fires WHERE schedule_id = %s ORDER BY due_at", (schedule_id,)
    ).fetchall()
