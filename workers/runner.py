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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backend.jobs.attempts import Claim, Failure, Records
from backend.jobs.states import AttemptStatus
from backend.settings import get_settings
from backend.steps import REGISTRY
from workers.context import (
    ColdShutdown,
    LogCapture,
    LogHandler,
    RunContext,
    StepCancelled,
    StepTimedOut,
)
from workers.heartbeat import process_heartbeat
from workers.storable import OutputNotStorable, storable_output, storable_text

if TYPE_CHECKING:
    from workers.claimed import ClaimedAttempt

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    output: Any = None
    failure: Failure | None = None
    interrupted: bool = False  # cancelled or lease lost: nothing of it may be written
    records: Records = field(default_factory=Records)  # what was not yet saved by a heartbeat
    claim_events_sent: bool = False  # the heartbeat published the claim's events meanwhile


def execute(claimed: ClaimedAttempt) -> Outcome:
    """Run the step and decide its outcome, once, here."""
    ctx = RunContext(claimed.claim)
    heartbeat = process_heartbeat()
    heartbeat.watch(claimed, ctx)
    try:
        with claimed.log_context():
            outcome = _run(claimed.claim, ctx)
    finally:
        heartbeat.unwatch()
    outcome.records = ctx.records.take()
    outcome.claim_events_sent = not claimed.holds_claim_events
    return outcome


def _run(claim: Claim, ctx: RunContext) -> Outcome:
    fn = REGISTRY.steps.get(claim.action)
    if fn is None:
        failure = Failure(
            AttemptStatus.FAILED,
            "UnknownAction",
            f"no step function registered as {claim.action!r}",
        )
        return Outcome(failure=failure)
    started = time.monotonic()
    try:
        with _interruptible(ctx, claim.timeout_seconds), _captured(ctx):
            result = fn(ctx)
        if claim.timeout_seconds and time.monotonic() - started > claim.timeout_seconds:
            raise StepTimedOut()
        settings = get_settings()
        return Outcome(
            output=storable_output(result, settings.nan_as_null, settings.max_output_bytes)
        )
    except StepTimedOut:
        message = f"step exceeded its timeout of {claim.timeout_seconds:g} s"
        return Outcome(failure=Failure(AttemptStatus.TIMED_OUT, "StepTimeout", message))
    except StepCancelled:
        return Outcome(interrupted=True)
    except ColdShutdown:  # the worker is being killed: its lease ends the attempt as lost
        raise
    except OutputNotStorable as exc:
        failure = Failure(AttemptStatus.FAILED, "OutputNotStorable", storable_text(str(exc)))
        return Outcome(failure=failure)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the step's own
        return Outcome(failure=step_failure(exc))


def step_failure(exc: BaseException) -> Failure:
    """The step's exception as its attempt's failure, even when str() or repr() of it raise."""
    name = type(exc).__name__
    message = _printed(exc) or f"{name} (no message)"
    if isinstance(exc, SystemExit):
        message = f"the step called exit({exc.code!r}); a step's exit fails its attempt only"
    elif isinstance(exc, KeyboardInterrupt):
        message = f"KeyboardInterrupt raised by the step{': ' + message if _printed(exc) else ''}"
    try:
        trace: str | None = traceback.format_exc()
    except BaseException:
        trace = None
    return Failure(
        AttemptStatus.FAILED,
        name,
        storable_text(message),
        storable_text(trace) if trace else None,
    )


def _printed(exc: BaseException) -> str:
    for render in (str, repr):
        try:
            return render(exc)
        except BaseException:
            continue
    return f"<{type(exc).__name__}: its str() and repr() raised>"


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
