"""Server-side commands without their servers (nothing configured, nothing listening, a
setting that cannot be read): one line on stderr and exit 3 (2 for a bad setting), never a
traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.services.system import free_port

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = [
    ["migrate"],
    ["seed"],
    ["token", "create", "--role", "admin", "--name", "me"],
    ["token", "list"],
    ["reaper", "--once"],
    ["worker", "--burst"],
    ["worker", "--count", "2"],
]


def _run(args: list[str], cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBMONITOR_")}
    env |= {"PYTHONPATH": str(ROOT), **settings}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_nothing_listening(args: list[str], tmp_path: Path) -> None:
    dead_pg, dead_redis = free_port(45432), free_port(46379)
    done = _run(
        args,
        tmp_path,
        JOBMONITOR_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{dead_pg}/x",
        JOBMONITOR_REDIS_URL=f"redis://127.0.0.1:{dead_redis}/0",
    )
    assert done.returncode == 3, (done.returncode, done.stderr)
    line = _one_line(done)
    assert f"PostgreSQL at 127.0.0.1:{dead_pg} is not reachable" in line
    assert "jobmonitor up" in line


@pytest.mark.parametrize(
    "args", [["migrate"], ["worker", "--burst"], ["token", "list"]], ids=" ".join
)
def test_nothing_configured(args: list[str], tmp_path: Path) -> None:
    done = _run(args, tmp_path)
    assert done.returncode == 3
    assert "JOBMONITOR_DATABASE_URL is not set" in _one_line(done)


def test_redis_missing_for_a_worker(db_url: str, tmp_path: Path) -> None:
    dead = free_port(46379)
    done = _run(
        ["worker", "--burst"],
        tmp_path,
        JOBMONITOR_DATABASE_URL=db_url,
        JOBMONITOR_REDIS_URL=f"redis://127.0.0.1:{dead}/0",
    )
    assert done.returncode == 3
    assert f"Redis at 127.0.0.1:{dead} is not reachable" in _one_line(done)


def test_a_setting_that_cannot_be_read(tmp_path: Path) -> None:
    done = _run(["migrate"], tmp_path, JOBMONITOR_DATABASE_URL="mysql://u@h/db")
    assert done.returncode == 2
    assert "JOBMONITOR_DATABASE_URL: not a PostgreSQL URL (scheme 'mysql')" in _one_line(done)


def test_the_env_file_is_read_like_the_environment(db_url: str, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"JOBMONITOR_DATABASE_URL={db_url}\n")
    done = _run(["token", "create", "--name", "from-dotenv"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("jm_")


def test_the_servers_up_recorded_are_used(db_url: str, tmp_path: Path) -> None:
    """No URL configured: the `servers.env` a running `up` wrote in the data dir is read."""
    (tmp_path / ".jobmonitor").mkdir()
    (tmp_path / ".jobmonitor" / "servers.env").write_text(f"JOBMONITOR_DATABASE_URL={db_url}\n")
    done = _run(["token", "create", "--role", "admin", "--name", "me"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("jm_")
    dead = free_port(45432)  # a configured URL wins over the recorded one
    done = _run(["migrate"], tmp_path, JOBMONITOR_DATABASE_URL=f"postgresql://u@127.0.0.1:{dead}/x")
    assert done.returncode == 3
    assert f"PostgreSQL at 127.0.0.1:{dead} is not reachable" in _one_line(done)


def test_recorded_servers_that_are_gone(tmp_path: Path) -> None:
    dead_pg, dead_redis = free_port(45432), free_port(46379)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "servers.env").write_text(
        f"JOBMONITOR_DATABASE_URL=postgresql://postgres@127.0.0.1:{dead_pg}/jobmonitor\n"
        f"JOBMONITOR_REDIS_URL=redis://127.0.0.1:{dead_redis}\n"
    )
    for args in (["token", "create", "--role", "admin", "--name", "me"], ["worker", "--burst"]):
        done = _run(args, tmp_path, JOBMONITOR_DATA_DIR=str(tmp_path / "data"))
        assert done.returncode == 3
        assert f"PostgreSQL at 127.0.0.1:{dead_pg} is not reachable" in _one_line(done)
