"""`jobmonitor up` as a user runs it (with servers configured): it migrates, seeds, starts
workers and the reaper, runs jobs, and stops every process it started on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import Engine


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.mark.slow
def test_up_runs_jobs_and_leaves_no_orphans(engine: Engine, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "JOBMONITOR_DATA_DIR": str(tmp_path),
        "JOBMONITOR_STEP_MODULES": "examples.steps",
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "--no-web"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        lines = []
        assert up.stderr is not None
        for line in up.stderr:
            lines.append(line)
            if "Ctrl-C stops everything" in line:
                break
        assert any("admin token (shown once)" in line for line in lines), "".join(lines)
        assert not (tmp_path / "servers.env").exists()  # its servers are the configured ones
        supervised = _children(up.pid)
        assert len(supervised) == 3  # the worker group, the reaper and the scheduler
        workspace = engine.conn.execute(
            "SELECT id FROM workspaces WHERE slug = 'default'"
        ).fetchone()
        engine.workspace_id = workspace["id"]
        job_id = engine.create("basic_sequence", {"records": 5})
        deadline = time.monotonic() + 90  # generous: the machine may be loaded
        while engine.job(job_id)["status"] != "completed" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert engine.job(job_id)["status"] == "completed"
        everything = supervised | {c for pid in supervised for c in _children(pid)}
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=30) == 0
        time.sleep(0.2)
        assert [pid for pid in everything if Path(f"/proc/{pid}").exists()] == []
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
