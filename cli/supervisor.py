"""Run named child processes together, forward their output, keep them running, stop them
all on Ctrl-C/SIGTERM (and only then).

Each child gets its own session and process group (`start_new_session=True`), so
a terminal's Ctrl-C reaches only the supervisor, and stopping a child signals its
whole group: grandchildren included, no orphans. Linux only (/proc).

A child that exits is started again after a backoff that doubles with each quick exit
(RESTART_FIRST .. RESTART_MAX seconds; a child that ran STABLE_AFTER seconds starts over);
CRASH_LOOP exits within CRASH_WINDOW seconds are reported as a crash loop with the child's
last lines. Watched services (`watch`: the private PostgreSQL and Redis of `up`) are
checked on every poll and started again when they died. Restart counts go to an optional
JSON state file (backend.supervision reads it for /metrics).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, TextIO

from backend import supervision

_COLORS = ("36", "33", "32", "35", "34", "31")
RESTART_FIRST = 0.5  # seconds before the first restart of a child
RESTART_MAX = 30.0
STABLE_AFTER = 60.0  # a child that ran this long restarts at once next time
CRASH_LOOP, CRASH_WINDOW = 5, 120.0
TAIL_LINES = 15
_SUPERVISOR = "supervisor"
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


@dataclass
class Child:
    """One supervised process, how to start it again, and the thread forwarding its output."""

    name: str
    process: subprocess.Popen[bytes]
    reader: threading.Thread
    color: str
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | Path | None = None
    started_at: float = field(default_factory=time.monotonic)
    restarts: int = 0
    quick_exits: int = 0
    restart_at: float | None = None  # set while it waits for its restart
    exits: deque[float] = field(default_factory=lambda: deque(maxlen=CRASH_LOOP))
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))


@dataclass
class Watched:
    """A service the supervisor did not start as a child but keeps running."""

    name: str
    alive: Callable[[], bool]
    start: Callable[[], None]
    restarts: int = 0
    retry_at: float = 0.0
    failed_starts: int = 0  # in a row: the next try waits RESTART_FIRST, doubled per failure


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
    """Start named children; `run_forever()` keeps them running until SIGINT/SIGTERM."""

    def __init__(
        self,
        out: TextIO | None = None,
        stop_timeout: float = 10.0,
        poll_interval: float = 0.2,
        state_file: Path | None = None,
    ) -> None:
        self.out = out or sys.stdout
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self.state_file = state_file
        self.children: list[Child] = []
        self.watched: list[Watched] = []
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

    def _forward(self, child: Child, stream: IO[bytes]) -> None:
        """Copy a child's output, line by line, until every writer closed it."""
        with stream:
            for raw in iter(stream.readline, b""):
                line = raw.decode(errors="replace").rstrip("\r\n")
                child.tail.append(line)
                self._write(child.name, line, child.color)

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
        color = _COLORS[len(self.children) % len(_COLORS)]
        child = Child(name, _spawn(argv, env, cwd), threading.Thread(), color)
        child.argv, child.env, child.cwd = list(argv), dict(env or {}), cwd
        self.children.append(child)
        self._follow(child)
        return child.process

    def watch(self, name: str, alive: Callable[[], bool], start: Callable[[], None]) -> None:
        """Keep a service running: `start()` it again whenever `alive()` turns False."""
        self.watched.append(Watched(name, alive, start))

    def _follow(self, child: Child) -> None:
        assert child.process.stdout is not None
        child.reader = threading.Thread(
            target=self._forward, args=(child, child.process.stdout), daemon=True
        )
        child.reader.start()
        self.log(f"started {child.name} (pid {child.process.pid})")
        self._save_state()

    def run_forever(self) -> int:
        """Keep the children (and watched services) running until SIGINT/SIGTERM, then stop
        all children. Returns 0."""
        self._signals.clear()
        previous = self._install_signal_handlers()
        try:
            while not self._signals:
                self._check_watched()
                for child in self.children:
                    self._check_child(child)
                time.sleep(self.poll_interval)
            self.log(f"received {signal.Signals(self._signals[0]).name}; stopping")
            return 0
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _check_child(self, child: Child) -> None:
        """Notice an exit (and schedule the restart), or restart when its time has come."""
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                self._restart(child)
            return
        code = child.process.poll()
        if code is None:
            return
        _wait_until_empty(child.process.pid, timeout=2)  # its grandchildren go with it
        child.reader.join(timeout=1)
        ran = now - child.started_at
        child.quick_exits = 0 if ran >= STABLE_AFTER else child.quick_exits + 1
        delay = min(RESTART_MAX, RESTART_FIRST * 2 ** max(child.quick_exits - 1, 0))
        child.exits.append(now)
        child.restart_at = now + delay
        self.log(
            f"{child.name} {_describe_exit(code)} after {ran:.1f} s; restarting in {delay:g} s"
        )
        if len(child.exits) == CRASH_LOOP and now - child.exits[0] <= CRASH_WINDOW:
            self.log(
                f"{child.name} is in a crash loop: {CRASH_LOOP} exits in "
                f"{now - child.exits[0]:.0f} s; its last lines:"
            )
            for line in child.tail:
                self.log(f"  {child.name} | {line}")

    def _restart(self, child: Child) -> None:
        child.restart_at = None
        child.restarts += 1
        child.started_at = time.monotonic()
        child.process = _spawn(child.argv, child.env, child.cwd)
        self._follow(child)

    def _check_watched(self) -> None:
        for service in self.watched:
            if time.monotonic() < service.retry_at or service.alive():
                continue
            self.log(f"{service.name} is not running; starting it again")
            try:
                service.start()
            except Exception as exc:  # e.g. ServiceError: try again soon, then less often
                # (a killed PostgreSQL's backends hold its lock file for a moment after it)
                delay = min(RESTART_MAX / 3, RESTART_FIRST * 2**service.failed_starts)
                service.failed_starts += 1
                service.retry_at = time.monotonic() + delay
                self.log(f"{service.name} did not start: {exc}; trying again in {delay:g} s")
                continue
            service.restarts += 1
            service.failed_starts = 0
            self.log(f"{service.name} is running again")
            self._save_state()

    def _save_state(self) -> None:
        if self.state_file is None:
            return
        supervision.write_state(
            self.state_file,
            {c.name: {"pid": c.process.pid, "restarts": c.restarts} for c in self.children},
            {w.name: {"restarts": w.restarts} for w in self.watched},
        )

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


def _spawn(
    argv: Sequence[str], env: Mapping[str, str] | None, cwd: str | Path | None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
