"""Supervisor: real child processes (and a grandchild); nothing may survive a stop."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from cli import supervisor
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


def _stop_soon(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, args=(os.getpid(), signal.SIGTERM))
    timer.start()
    return timer


def test_run_forever_restarts_a_child_that_exits(tmp_path: Path) -> None:
    out = io.StringIO()
    state = tmp_path / "state.json"
    sup = Supervisor(out=out, poll_interval=0.05, state_file=state)
    counter = tmp_path / "runs"
    script = f"open({str(counter)!r}, 'a').write('x'); import sys; sys.exit(3)"
    first = sup.start("crasher", [PY, "-c", script])
    spawner = sup.start("spawner", [PY, "-c", spawner_script(tmp_path / "grandchild")])
    grandchild = int(wait_for_file(tmp_path / "grandchild"))
    timer = _stop_soon(2.5)  # restarts after 0.5, 1, 2 s: three by then at least

    code = sup.run_forever()

    timer.join()
    assert code == 0
    text = out.getvalue()
    assert "crasher exited with code 3" in text and "restarting in 0.5 s" in text
    assert "restarting in 1 s" in text  # the backoff doubles for quick exits
    runs = len(counter.read_text())
    assert 3 <= runs <= 4, text
    assert not alive(first.pid) and not alive(spawner.pid) and not alive(grandchild)
    assert "spawner exited" not in text  # the others were left alone until the signal
    saved = json.loads(state.read_text())
    assert saved["children"]["crasher"]["restarts"] == runs - 1
    assert saved["children"]["spawner"]["restarts"] == 0


def test_a_crash_loop_is_reported_with_the_last_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "RESTART_FIRST", 0.05)
    monkeypatch.setattr(supervisor, "RESTART_MAX", 0.1)
    out = io.StringIO()
    sup = Supervisor(out=out, poll_interval=0.02)
    sup.start(
        "looper", [PY, "-c", "print('config is broken: no DATABASE_URL'); raise SystemExit(2)"]
    )
    timer = _stop_soon(3.0)
    sup.run_forever()
    timer.join()
    text = out.getvalue()
    assert "looper is in a crash loop: 5 exits in" in text, text
    assert "  looper | config is broken: no DATABASE_URL" in text


def test_a_watched_service_is_started_again(tmp_path: Path) -> None:
    out = io.StringIO()
    sup = Supervisor(out=out, poll_interval=0.05, state_file=tmp_path / "state.json")
    running = {"up": False}
    sup.watch("postgres", lambda: running["up"], lambda: running.update(up=True))
    timer = _stop_soon(0.5)
    sup.run_forever()
    timer.join()
    assert "postgres is not running; starting it again" in out.getvalue()
    assert running["up"]
    assert (
        json.loads((tmp_path / "state.json").read_text())["services"]["postgres"]["restarts"] == 1
    )


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


def test_a_watched_service_that_fails_to_start_is_tried_again_soon_then_less_often() -> None:
    out = io.StringIO()
    sup = Supervisor(out=out, poll_interval=0.02)
    tries: list[float] = []

    def start() -> None:
        tries.append(time.monotonic())
        if len(tries) < 3:
            raise RuntimeError("lock file postmaster.pid already exists")

    sup.watch("postgres", lambda: len(tries) >= 3, start)
    timer = _stop_soon(3.5)
    sup.run_forever()
    timer.join()
    text = out.getvalue()
    assert "trying again in 0.5 s" in text and "trying again in 1 s" in text, text
    assert "postgres is running again" in text
    assert len(tries) == 3
    assert tries[1] - tries[0] >= 0.45 and tries[2] - tries[1] >= 0.95  # the delays are kept
    assert tries[2] - tries[0] < 3.5  # not the 10 s a failed start used to wait
