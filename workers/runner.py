"""Running one claimed attempt: the step function under a heartbeat, a timeout and
cancellation, with its stdout and logging captured. Decides the outcome once, in one place."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg

from backend.db import connect
from backend.jobs import attempts
from backend.jobs.attempts import Claim, Failure
from backend.jobs.outbox import Outbox
from backend.jobs.states import AttemptStatus, record_event
from backend.settings import get_settings
from backend.steps import REGISTRY
from workers.context import (
    LogCapture,
    LogHandler,
    RunContext,
    StepCancelled,
    StepTimedOut,
    as_json,
)

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    output: Any = None
    failure: Failure | None = None
    interrupted: bool = False  # cancelled or lease lost: nothing of it may be written


def execute(claim: Claim) -> tuple[Outcome, RunContext]:
    ctx = RunContext(claim)
    fn = REGISTRY.steps.get(claim.action)
    if fn is None:
        failure = Failure(AttemptStatus.FAILED, "UnknownAction", f"no step function registered as {claim.action!r}")
        return Outcome(failure=failure), ctx
    beat = Heartbeat(claim, ctx)
    beat.start()
    started = time.monotonic()
    try:
        with _interruptible(ctx, claim.timeout_seconds), _captured(ctx):
            output = as_json(fn(ctx))
        if claim.timeout_seconds and time.monotonic() - started > claim.timeout_seconds:
            raise StepTimedOut()
        return Outcome(output=output), ctx
    except StepTimedOut:
        message = f"step exceeded its timeout of {claim.timeout_seconds:g} s"
        return Outcome(failure=Failure(AttemptStatus.TIMED_OUT, "StepTimeout", message)), ctx
    except StepCancelled:
        return Outcome(interrupted=True), ctx
    except Exception as exc:
        failure = Failure(AttemptStatus.FAILED, type(exc).__name__, str(exc) or repr(exc), traceback.format_exc())
        return Outcome(failure=failure), ctx
    finally:
        beat.stop()


@contextlib.contextmanager
def _captured(ctx: RunContext) -> Iterator[None]:
    handler = LogHandler(ctx, threading.get_ident())
    root = logging.getLogger()
    root.addHandler(handler)
    capture = LogCapture(ctx)
    try:
        with contextlib.redirect_stdout(capture):  # type: ignore[type-var]
            yield
    finally:
        capture.flush()
        root.removeHandler(handler)


@contextlib.contextmanager
def _interruptible(ctx: RunContext, timeout: float | None) -> Iterator[None]:
    """Deliver timeouts and cancellation into the step as exceptions, via SIGALRM on the main
    thread (interrupts sleeps and blocking I/O too). rq's own alarm is saved and restored.
    Off the main thread, cancellation is cooperative (ctx.cancelled) and the timeout is
    checked when the function returns."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    deadline = time.monotonic() + timeout if timeout else None

    def on_alarm(signum: int, frame: Any) -> None:
        if ctx.cancelled:
            raise StepCancelled("the job was cancelled")
        if deadline is not None and time.monotonic() >= deadline - 0.001:
            raise StepTimedOut()

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, timeout or 0)
    main_id = threading.main_thread().ident or 0
    ctx.interrupt = lambda: signal.pthread_kill(main_id, signal.SIGALRM)
    entered = time.monotonic()
    try:
        yield
    finally:
        ctx.interrupt = None
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_timer[0] > 0:
            remaining = max(previous_timer[0] - (time.monotonic() - entered), 0.001)
            signal.setitimer(signal.ITIMER_REAL, remaining)


_beat_conn: psycopg.Connection[Any] | None = None
_beat_pid: int | None = None


def _heartbeat_connection() -> psycopg.Connection[Any]:
    """A second connection of the process, opened on the first heartbeat only: steps shorter
    than one heartbeat interval never pay for it."""
    import os

    global _beat_conn, _beat_pid
    if _beat_conn is None or _beat_pid != os.getpid() or _beat_conn.broken:
        _beat_conn = connect(autocommit=True)
        _beat_pid = os.getpid()
    return _beat_conn


class Heartbeat(threading.Thread):
    """Extends the lease, saves buffered log lines and progress, and notices cancellation."""

    def __init__(self, claim: Claim, ctx: RunContext) -> None:
        super().__init__(name=f"heartbeat-{claim.attempt_id}", daemon=True)
        self.claim, self.ctx = claim, ctx
        self.settings = get_settings()
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()
        self.ctx.beat_now.set()
        self.join(timeout=5)

    def run(self) -> None:
        interval = self.settings.heartbeat_every
        while not self.stopped.is_set():
            self.ctx.beat_now.wait(interval)
            self.ctx.beat_now.clear()
            if self.stopped.is_set():
                return
            try:
                self.beat()
            except psycopg.Error as exc:  # the database is away: the lease may lapse; keep trying
                log.warning("heartbeat failed for attempt %s: %s", self.claim.attempt_id, exc)

    def beat(self) -> None:
        conn = _heartbeat_connection()
        alive = attempts.heartbeat(
            conn, self.claim.attempt_id, self.claim.lease_token, self.settings.lease_ttl, self.ctx.progress_value
        )
        if not alive:
            self.ctx.mark_cancelled()
            if self.ctx.interrupt is not None:
                self.ctx.interrupt()
            return
        self.flush_logs(conn)

    def flush_logs(self, conn: psycopg.Connection[Any]) -> None:
        logs = self.ctx.take_logs()
        if not logs:
            return
        outbox = Outbox()
        with conn.transaction():
            attempts.write_records(conn, self.claim, attempts.Records(logs=logs))
            outbox.add_event(
                record_event(
                    conn, self.claim.job_id, "log", step_key=self.claim.step_key,
                    attempt_id=self.claim.attempt_id, data={"lines": len(logs), "last": logs[-1][1][:200]},
                )
            )  # fmt: skip
        outbox.flush()
