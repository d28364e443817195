"""Run named child processes together, forward their output, stop them all.

Each child gets its own session and process group (`start_new_session=True`), so
a terminal's Ctrl-C reaches only the supervisor, and stopping a child signals its
whole group: grandchildren included, no orphans. Linux only (/proc).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any, TextIO

_COLORS = ("36", "33", "32", "35", "34", "31")
_SUPERVISOR = "supervisor"
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


@dataclass
class Child:
    """One supervised process and the thread forwarding its output."""

    name: str
    process: subprocess.Popen[bytes]
    reader: threading.Thread
    color: str


def group_alive(pgid: int) -> bool:
    """True while any non-zombie process belongs to process group `pgid`."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send `sig` to a process group, ignoring groups that are already gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_until_empty(pgid: int, timeout: float) -> None:
    """Wait (up to `timeout`) until process group `pgid` has no live member."""
    deadline = time.monotonic() + timeout
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)


def _describe_exit(code: int) -> str:
    """'exited with code N' or 'was killed by SIGNAME'."""
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


class Supervisor:
    """Start named children; `run_forever()` until a signal or a child's death."""

    def __init__(
        self, out: TextIO | None = None, stop_timeout: float = 10.0, poll_interval: float = 0.2
    ) -> None:
        self.out = out or sys.stdout
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self.children: list[Child] = []
        self._lock = threading.Lock()
        self._signals: list[int] = []
        self._use_color = self.out.isatty() and "NO_COLOR" not in os.environ

    # ------------------------------------------------------------------ output

    def log(self, message: str) -> None:
        """Write one of the supervisor's own lines."""
        self._write(_SUPERVISOR, message, "1")

    def _write(self, name: str, line: str, color: str) -> None:
        """Write `line` prefixed with the child's padded name."""
        width = max([len(_SUPERVISOR), *(len(c.name) for c in self.children)])
        prefix = f"{name:<{width}} |"
        if self._use_color:
            prefix = f"\033[{color}m{prefix}\033[0m"
        with self._lock:
            self.out.write(f"{prefix} {line}\n")
            self.out.flush()

    def _forward(self, name: str, stream: IO[bytes], color: str) -> None:
        """Copy a child's output, line by line, until every writer closed it."""
        with stream:
            for raw in iter(stream.readline, b""):
                self._write(name, raw.decode(errors="replace").rstrip("\r\n"), color)

    # ------------------------------------------------------------------ children

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `argv` as child `name` in its own process group, stdout+stderr
        forwarded with a `name |` prefix. `env` is added to os.environ."""
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert process.stdout is not None
        color = _COLORS[len(self.children) % len(_COLORS)]
        reader = threading.Thread(
            target=self._forward, args=(name, process.stdout, color), daemon=True
        )
        self.children.append(Child(name, process, reader, color))
        reader.start()
        self.log(f"started {name} (pid {process.pid})")
        return process

    def run_forever(self) -> int:
        """Wait until SIGINT/SIGTERM or until a child dies, then stop all children.

        Returns 0 after a signal; after a child's death, that child's exit code
        (1 if it exited with 0, 128+N if killed by signal N)."""
        self._signals.clear()
        previous = self._install_signal_handlers()
        try:
            return self._wait_for_trouble()
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _wait_for_trouble(self) -> int:
        """Poll the children until a signal arrives or one of them exits."""
        while not self._signals:
            for child in self.children:
                code = child.process.poll()
                if code is not None:
                    self.log(f"{child.name} {_describe_exit(code)}; stopping the others")
                    return code if code > 0 else (128 - code if code < 0 else 1)
            time.sleep(self.poll_interval)
        self.log(f"received {signal.Signals(self._signals[0]).name}; stopping")
        return 0

    def _install_signal_handlers(self) -> dict[int, _Handler]:
        """Record SIGINT/SIGTERM in self._signals (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, _Handler] = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, self._on_signal)
        return previous

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        """Signal handler: note the signal; a second one makes stop_all kill at once."""
        self._signals.append(signum)

    def stop_all(self, timeout: float | None = None) -> None:
        """SIGTERM every child's process group, wait up to `timeout` (default
        stop_timeout) for the groups to empty, then SIGKILL what is left."""
        timeout = self.stop_timeout if timeout is None else timeout
        children = list(self.children)
        signals_before = len(self._signals)
        for child in children:
            _signal_group(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        alive = children
        while alive and time.monotonic() < deadline and len(self._signals) <= signals_before:
            time.sleep(0.05)
            alive = [c for c in alive if c.process.poll() is None or group_alive(c.process.pid)]
        for child in alive:
            self.log(f"{child.name} still running after SIGTERM; sending SIGKILL")
            _signal_group(child.process.pid, signal.SIGKILL)
        for child in children:
            child.process.wait()
            _wait_until_empty(child.process.pid, timeout=2)
            child.reader.join(timeout=2)
            self.log(f"{child.name} stopped ({_describe_exit(child.process.returncode)})")
        self.children = []
