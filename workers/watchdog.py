"""The watchdog: beats for a running attempt where the step cannot starve it, and enforces
the step's hard timeout.

A step that holds the GIL (a long call into C) starves the heartbeat thread of its own
process: its lease would lapse, and the reaper would declare it lost and run it again while
it still runs. A step that swallows the interrupt of its timeout would run on. So the
watchdog runs outside the step's interpreter: in the forking Worker, a thread of the parent
(which only waits for its horse); with SimpleWorker, a small process forked when the worker
starts (`SidecarWatchdog`), fed through a pipe. While an attempt runs it extends the lease
every heartbeat interval, and once the step has run `timeout + JOBMONITOR_TIMEOUT_GRACE`
seconds it kills what runs the step (the horse; the SimpleWorker process, which `jobmonitor
worker` replaces) and the attempt is recorded as timed out.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import psycopg

from backend import outages
from backend.db import connect, pipelined_transaction
from backend.jobs import attempts
from backend.jobs.attempts import Claim, Failure, NotRunnable, Records
from backend.jobs.outbox import Outbox
from backend.jobs.states import AttemptStatus
from backend.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Watched:
    """What the watchdog needs of a claim (sent through a pipe to the sidecar)."""

    attempt_id: str
    job_id: str
    step_id: str
    workspace_id: str
    step_key: str
    step_name: str
    attempt_number: int
    lease_token: str
    timeout_seconds: float | None

    @classmethod
    def of(cls, claim: Claim) -> Watched:
        return cls(
            attempt_id=str(claim.attempt_id),
            job_id=str(claim.job_id),
            step_id=str(claim.step_id),
            workspace_id=str(claim.workspace_id),
            step_key=claim.step_key,
            step_name=claim.step_name,
            attempt_number=claim.attempt_number,
            lease_token=str(claim.lease_token),
            timeout_seconds=claim.timeout_seconds,
        )

    def claim(self) -> Claim:
        return Claim(
            uuid.UUID(self.attempt_id),
            uuid.UUID(self.job_id),
            uuid.UUID(self.step_id),
            uuid.UUID(self.workspace_id),
            self.step_key,
            self.step_name,
            self.attempt_number,
            uuid.UUID(self.lease_token),
            "",
            {},
            {},
            {},
            self.timeout_seconds,
        )


def timeout_failure(timeout: float) -> Failure:
    grace = get_settings().timeout_grace
    return Failure(
        AttemptStatus.TIMED_OUT,
        "StepTimeout",
        f"step exceeded its timeout of {timeout:g} s and did not stop; its process was killed "
        f"{grace:g} s later",
    )


class Watchdog:
    """Beats for the watched attempt and calls `kill` at its hard deadline (once)."""

    def __init__(self, kill: Callable[[Watched], None]) -> None:
        self.kill = kill
        self._current: tuple[Watched, float | None] | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    def watch(self, watched: Watched) -> None:
        timeout = watched.timeout_seconds
        deadline = time.monotonic() + timeout + get_settings().timeout_grace if timeout else None
        with self._lock:
            self._current = (watched, deadline)

    def unwatch(self) -> None:
        with self._lock:
            self._current = None

    def tick(self) -> None:
        """Extend the lease; past the hard deadline, kill (and stop watching)."""
        with self._lock:
            current = self._current
            expired = (
                current is not None and current[1] is not None and time.monotonic() > current[1]
            )
            if expired:
                self._current = None
        if current is None:
            return
        if expired:
            log.warning(
                "attempt %s ran past its timeout and grace: killing it", current[0].attempt_id
            )
            self.kill(current[0])
            return
        self._extend(current[0])

    def _extend(self, watched: Watched) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = connect(autocommit=True)
            attempts.heartbeat(
                self._conn,
                uuid.UUID(watched.attempt_id),
                uuid.UUID(watched.lease_token),
                get_settings().lease_ttl,
                None,
            )
        except psycopg.Error as exc:  # the step's own heartbeat or the reaper's grace cover it
            outages.noted(exc)
            if self._conn is not None:
                self._conn.close()
            self._conn = None


class ThreadWatchdog(Watchdog):
    """A thread of the forking worker's parent."""

    def __init__(self, kill: Callable[[Watched], None]) -> None:
        super().__init__(kill)
        threading.Thread(target=self._loop, name="watchdog", daemon=True).start()

    def _loop(self) -> None:
        while True:
            time.sleep(get_settings().heartbeat_every)
            self.tick()


_sidecar: SidecarWatchdog | None = None


def start_sidecar() -> None:
    """Give this (SimpleWorker) process its watchdog process."""
    global _sidecar
    _sidecar = SidecarWatchdog()


def sidecar() -> SidecarWatchdog | None:
    """This process's sidecar watchdog, if it has one (not after a fork)."""
    return _sidecar if _sidecar is not None and _sidecar.worker_pid == os.getpid() else None


class SidecarWatchdog:
    """With SimpleWorker: a forked process that watches the worker process (its parent)."""

    def __init__(self) -> None:
        read, self._write = os.pipe()
        self.worker_pid = os.getpid()
        self.lost = False
        self.pid = os.fork()
        if self.pid == 0:  # the sidecar
            os.close(self._write)
            _serve(read, self.worker_pid)
            os._exit(0)
        os.close(read)

    def watch(self, claim: Claim) -> None:
        self._send({"watch": asdict(Watched.of(claim))})

    def unwatch(self) -> None:
        self._send({"unwatch": True})

    def _send(self, message: dict[str, Any]) -> None:
        """Tell the sidecar; if it is gone, the step runs without it (its own heartbeat)."""
        try:
            os.write(self._write, (json.dumps(message) + "\n").encode())
        except OSError as exc:
            if not self.lost:
                log.warning("the watchdog process is gone (%s): no hard timeout here", exc)
            self.lost = True


def _serve(read: int, worker_pid: int) -> None:
    """The sidecar's loop: commands from the worker, a tick every heartbeat interval; ends
    when the worker's end of the pipe closes (it exited) or after killing it. A command does
    not tick: the claim set a fresh lease, and a step shorter than the interval (most of
    them) then costs the sidecar no write of its own."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # stops with its worker, not before
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    killed: list[Watched] = []

    def kill(watched: Watched) -> None:
        os.kill(worker_pid, signal.SIGKILL)
        killed.append(watched)

    dog = Watchdog(kill)
    buffer = b""
    every = get_settings().heartbeat_every
    next_tick = time.monotonic() + every
    while not killed:
        ready, _, _ = select.select([read], [], [], max(next_tick - time.monotonic(), 0))
        if ready:
            chunk = os.read(read, 65536)
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                message = json.loads(line)
                dog.watch(Watched(**message["watch"])) if "watch" in message else dog.unwatch()
        if time.monotonic() >= next_tick:
            dog.tick()
            next_tick = time.monotonic() + every
    _record_timeout(killed[0])


def _record_timeout(watched: Watched) -> None:
    claim = watched.claim()
    failure = timeout_failure(watched.timeout_seconds or 0)

    def write() -> Outbox:
        outbox = Outbox()
        with connect(autocommit=True) as conn:
            with pipelined_transaction(conn):
                attempts.finish_failure(conn, claim, failure, Records(), outbox)
            outbox.flush(conn)
        return outbox

    try:
        outages.retry(write)
    except NotRunnable:
        log.info("attempt %s ended meanwhile", watched.attempt_id)
