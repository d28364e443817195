"""`jobmonitor up` is a supervisor, not a fuse: it starts again a worker group, the reaper,
and its private PostgreSQL and Redis when they are killed, jobs go on completing, and it
stops only on SIGTERM (then everything it started stops)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.db import connect
from backend.supervision import state_path
from tests.conftest import _reset
from tests.integration.conftest import Engine
from tests.unit.test_supervisor import alive


def _wait(what: str, check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _restarts(data_dir: Path) -> dict[str, int]:
    try:
        state = json.loads(state_path(data_dir).read_text())
    except (OSError, ValueError):
        return {}
    both = {**state["children"], **state["services"]}
    return {name: entry["restarts"] for name, entry in both.items()}


def _pids(data_dir: Path) -> dict[str, int]:
    state = json.loads(state_path(data_dir).read_text())
    return {name: entry["pid"] for name, entry in state["children"].items()}


SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _uid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def _readme_command(line: str, home: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """A README command line as a user types it: a login-less bash whose PATH has only the
    system dirs and the ~/.local/bin up linked into, no URL configured, outside the checkout."""
    env = {"PATH": f"{home}/.local/bin:{SYSTEM_PATH}", "HOME": str(home)}
    env["JOBMONITOR_DATA_DIR"] = str(data_dir)  # the default is ./.jobmonitor of the checkout
    return subprocess.run(
        ["bash", "-c", line], env=env, cwd=home, capture_output=True, text=True, timeout=120
    )


def _postmaster(data_dir: Path) -> int:
    return int((data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0])


@pytest.mark.slow
def test_up_restarts_children_and_private_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = Path(".jobmonitor/test").resolve() / f"up-{uuid.uuid4().hex[:8]}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("JOBMONITOR_DATABASE_URL", "JOBMONITOR_REDIS_URL")
    }
    home = data_dir.parent / f"{data_dir.name}-home"
    env.update(
        PATH=SYSTEM_PATH,  # not the venv's bin: up links jobmonitor into ~/.local/bin
        HOME=str(home),
        JOBMONITOR_LINK_CLI="1",
        JOBMONITOR_DATA_DIR=str(data_dir),
        JOBMONITOR_STEP_MODULES="examples.steps",
        JOBMONITOR_LEASE_TTL="3",
        JOBMONITOR_HEARTBEAT_INTERVAL="0.3",
        JOBMONITOR_REAPER_INTERVAL="0.5",
    )
    log_path = data_dir.parent / f"{data_dir.name}.log"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log_file:
        up = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "up", "--no-web", "--workers", "2"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        output = lambda: log_path.read_text(errors="replace")  # noqa: E731
        _wait("up to start", lambda: "Ctrl-C stops everything" in output(), 180)
        urls = re.search(r"PostgreSQL (\S+)\s+Redis (\S+)", output())
        assert urls, output()
        monkeypatch.setenv("JOBMONITOR_DATABASE_URL", urls.group(1))
        monkeypatch.setenv("JOBMONITOR_REDIS_URL", urls.group(2))
        _reset()

        # up recorded its private servers, and README's commands work as written while it runs
        servers_env = (data_dir / "servers.env").read_text()
        assert f"JOBMONITOR_DATABASE_URL={urls.group(1)}" in servers_env
        assert f"JOBMONITOR_REDIS_URL={urls.group(2)}" in servers_env
        assert (home / ".local/bin/jobmonitor").resolve() == (
            Path(sys.executable).parent / "jobmonitor"
        ).resolve()
        made = _readme_command("jobmonitor token create --role admin --name me", home, data_dir)
        assert made.returncode == 0 and made.stdout.startswith("jm_"), made.stderr
        migrated = _readme_command("jobmonitor migrate", home, data_dir)
        assert migrated.returncode == 0, migrated.stderr
        redis_pid = int((data_dir / "redis" / "redis.pid").read_text())
        if os.geteuid() == 0:  # the private servers never run as root
            assert _uid(redis_pid) != 0 and _uid(_postmaster(data_dir)) != 0

        pids = _pids(data_dir)
        os.killpg(pids["worker"], signal.SIGKILL)
        os.killpg(pids["reaper"], signal.SIGKILL)
        os.kill(int((data_dir / "redis" / "redis.pid").read_text()), signal.SIGKILL)
        os.kill(_postmaster(data_dir), signal.SIGKILL)
        _wait(
            "the restarts",
            lambda: all(
                _restarts(data_dir).get(name, 0) >= 1
                for name in ("worker", "reaper", "postgres", "redis")
            ),
            120,
        )
        assert up.poll() is None, output()

        with connect(autocommit=True) as conn:
            engine = Engine(conn)
            workspace = conn.execute("SELECT id FROM workspaces WHERE slug = 'default'").fetchone()
            assert workspace is not None
            engine.workspace_id = workspace["id"]
            jobs = [engine.create("basic_sequence", {"records": 5}) for _ in range(3)]
            _wait(
                "the jobs",
                lambda: all(engine.job(j)["status"] == "completed" for j in jobs),
                120,
            )
        text = output()
        assert "worker was killed by SIGKILL" in text and "reaper was killed by SIGKILL" in text
        assert "postgres is running again" in text and "redis is running again" in text
        if os.geteuid() == 0:  # started again, still not as root
            assert _uid(int((data_dir / "redis" / "redis.pid").read_text())) != 0

        postmaster = _postmaster(data_dir)
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) == 0, output()
        assert not alive(postmaster)
        assert not (data_dir / "postgres" / "postmaster.pid").exists()
        assert not (data_dir / "servers.env").exists()
        after = _readme_command("jobmonitor token create --role admin --name me", home, data_dir)
        assert after.returncode == 3 and "Traceback" not in after.stderr, after.stderr
        assert after.stderr.strip().startswith("error: JOBMONITOR_DATABASE_URL is not set")
        assert len(after.stderr.strip().splitlines()) == 1, after.stderr
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
        _reset()
        subprocess.run(
            [sys.executable, "-m", "cli.services", "stop-private", str(data_dir)],
            capture_output=True,
        )
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
        log_path.unlink(missing_ok=True)
