"""Step-output files in /dev/shm: private to their owner, and removed when a worker starts if
the worker that would have read them is gone."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.integration.conftest import Engine, chain
from workers import outcome_file


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_starting_worker_removes_files_of_workers_that_are_gone(engine: Engine) -> None:
    scratch = outcome_file.SCRATCH
    dead = scratch / f"{outcome_file.PREFIX}{_dead_pid()}.{uuid.uuid4()}.json"
    dead_partial = dead.with_suffix(".partial")
    live = scratch / f"{outcome_file.PREFIX}{os.getpid()}.{uuid.uuid4()}.json"
    old_format = scratch / f"jobmonitor-{uuid.uuid4()}.json"
    fresh_old_format = scratch / f"jobmonitor-{uuid.uuid4()}.json"
    for path in (dead, dead_partial, live, old_format, fresh_old_format):
        path.write_text('{"output": "secret"}')
    long_ago = time.time() - 2 * outcome_file.OLD_FORMAT_AGE
    os.utime(old_format, (long_ago, long_ago))
    try:
        engine.register(chain("shm", "a"))
        job_id = engine.create("shm")
        worker = engine.spawn_worker(simple=False, burst=True)
        assert worker.wait(timeout=60) == 0
        assert engine.job(job_id)["status"] == "completed"
        assert not dead.exists() and not dead_partial.exists() and not old_format.exists()
        assert live.exists() and fresh_old_format.exists()  # a live worker's, a recent one
        assert not list(scratch.glob(f"{outcome_file.PREFIX}{worker.pid}.*"))
    finally:
        for path in (dead, dead_partial, live, old_format, fresh_old_format):
            path.unlink(missing_ok=True)


def test_outcome_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    from workers.runner import Outcome

    path = tmp_path / "outcome.json"
    outcome_file.write(path, Outcome(output={"x": 1}))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    read = outcome_file.read(path)
    assert read is not None and read.output == {"x": 1} and not path.exists()
