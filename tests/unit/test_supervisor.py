"""Supervisor: real child processes (and a grandchild); nothing may survive a stop."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from cli.supervisor import Supervisor, group_alive

PY = sys.executable


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (PID 1 here may not reap orphans)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_for_file(path: Path, timeout: float = 10) -> str:
    """The content of `path` once it exists and is not empty."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


def wait_for_text(out: io.StringIO, text: str, timeout: float = 10) -> None:
    """Wait until `text` shows up in the supervisor's output."""
    deadline = time.monotonic() + timeout
    while text not in out.getvalue():
        assert time.monotonic() < deadline, f"{text!r} not in output:\n{out.getvalue()}"
        time.sleep(0.02)


def spawner_script(pid_file: Path) -> str:
    """Python source of a child that starts a `sleep` grandchild, records its pid, waits."""
    return (
        "import subprocess, time\n"
        "p = subprocess.Popen(['sleep', '300'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "print('spawned', flush=True)\n"
        "time.sleep(300)\n"
    )


STUBBORN = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ignoring SIGTERM', flush=True)\n"
    "time.sleep(300)\n"
)


def test_output_is_prefixed_with_the_child_name() -> None:
    out = io.StringIO()
    sup = Supervisor(out=out)
    sup.start("greeter", [PY, "-c", "print('hello'); import sys; print('oops', file=sys.stderr)"])
    wait_for_text(out, "oops")
    sup.stop_all()
    lines = out.getvalue().splitlines()
    assert any(line.startswith("greeter") and line.endswith("| hello") for line in lines)
    assert any(line.startswith("greeter") and line.endswith("| oops") for line in lines)


def test_stop_all_kills_children_and_grandchildren(tmp_path: Path) -> None:
    out = io.StringIO()
    sup = Supervisor(out=out)
    sleeper = sup.start("sleeper", ["sleep", "300"])
    spawner = sup.start("spawner", [PY, "-c", spawner_script(tmp_path / "grandchild")])
    grandchild = int(wait_for_file(tmp_path / "grandchild"))
    assert alive(grandchild)

    started = time.monotonic()
    sup.stop_all()

    assert time.monotonic() - started < 5
    for pid in (sleeper.pid, spawner.pid, grandchild):
        assert not alive(pid), f"pid {pid} survived"
        assert not group_alive(pid)
    assert sup.children == []


def test_stop_all_sigkills_a_child_that_ignores_sigterm() -> None:
    out = io.StringIO()
    sup = Supervisor(out=out, stop_timeout=1.0)
    stubborn = sup.start("stubborn", [PY, "-c", STUBBORN])
    wait_for_text(out, "ignoring SIGTERM")

    started = time.monotonic()
    sup.stop_all()

    assert 0.9 < time.monotonic() - started < 5
    assert not alive(stubborn.pid)
    assert stubborn.returncode == -signal.SIGKILL
    assert "sending SIGKILL" in out.getvalue()


def test_run_forever_stops_everything_when_a_child_dies(tmp_path: Path) -> None:
    out = io.StringIO()
    sup = Supervisor(out=out, poll_interval=0.05)
    spawner = sup.start("spawner", [PY, "-c", spawner_script(tmp_path / "grandchild")])
    grandchild = int(wait_for_file(tmp_path / "grandchild"))
    sup.start("crasher", [PY, "-c", "import time, sys; time.sleep(0.3); sys.exit(3)"])

    code = sup.run_forever()

    assert code == 3
    assert "crasher exited with code 3; stopping the others" in out.getvalue()
    assert not alive(spawner.pid)
    assert not alive(grandchild)


def test_run_forever_stops_everything_on_sigterm(tmp_path: Path) -> None:
    out = io.StringIO()
    sup = Supervisor(out=out, poll_interval=0.05)
    spawner = sup.start("spawner", [PY, "-c", spawner_script(tmp_path / "grandchild")])
    grandchild = int(wait_for_file(tmp_path / "grandchild"))
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGTERM))
    timer.start()

    code = sup.run_forever()

    timer.join()
    assert code == 0
    assert "received SIGTERM; stopping" in out.getvalue()
    assert not alive(spawner.pid)
    assert not alive(grandchild)
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("code, expected", [(0, 1), (-9, 137)])
def test_run_forever_exit_status_of_a_dead_child(code: int, expected: int) -> None:
    sup = Supervisor(out=io.StringIO(), poll_interval=0.05)
    script = f"import os, signal; os.kill(os.getpid(), {-code})" if code < 0 else "pass"
    sup.start("short", [PY, "-c", script])
    assert sup.run_forever() == expected
