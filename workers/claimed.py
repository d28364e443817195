"""One claimed attempt in a worker, from its claim to its recorded outcome.

Life cycle, one object per attempt:
  1. `ClaimedAttempt.claim()`: the claim's transaction commits. Its events (the step started,
     perhaps the job) are held back rather than published at once;
  2. the step runs (`workers.runner.execute`) under the process's heartbeat, which publishes
     the held events once the step has run `PUBLISH_DELAY`;
  3. `record(outcome)`: the outcome's transaction; then one Redis pipeline enqueues and
     publishes what follows, with the claim's events if they are still held. A step shorter
     than the delay so costs one Redis round trip instead of two. With a `Successor` (our
     SimpleWorker, see workers.continuation), a completion that makes steps ready claims
     the first of them in the same transaction: `successor` is then the next ClaimedAttempt to run.
Whoever sends the held events takes them under a lock, so they go out once.

With the forking Worker, steps 1 and 3 run in the parent over its long-lived connection and
step 2 in the work horse, which gets the object through the fork (workers.worker); the
horse's outcome file says whether it published the claim's events, so the parent's copy does
not send them again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

import psycopg

from backend import outages
from backend.db import pipelined_transaction, retry_conflicts, worker_connection
from backend.jobs import attempts
from backend.jobs.attempts import Claim, Failure, NotRunnable, Records
from backend.jobs.continuation import Successor, claim_successor
from backend.jobs.outbox import Outbox
from backend.jobs.states import AttemptStatus
from backend.logs import log_context
from backend.queue import AttemptRef
from backend.settings import get_settings
from backend.tracing import Span, mark_error, span
from workers import step_metrics

if TYPE_CHECKING:
    from workers.runner import Outcome

log = logging.getLogger(__name__)

PUBLISH_DELAY = 0.05  # seconds a claim's events may wait to travel with the step's outcome


class ClaimedAttempt:
    def __init__(self, claim: Claim, claim_events: Outbox, worker: str = "") -> None:
        self.claim = claim
        self.worker = worker
        self.successor: ClaimedAttempt | None = None  # claimed with this one's completion
        self._claim_events: Outbox | None = claim_events
        self._lock = threading.Lock()
        self._claimed_at = time.monotonic()

    @classmethod
    def claim_attempt(cls, ref: AttemptRef, worker: str) -> ClaimedAttempt | None:
        """Claim in its own transaction; None when the attempt may not run (cancelled, taken,
        lost: a redelivered message does nothing). Waits out a database outage (the message
        is held meanwhile); a claim whose commit was lost with the connection finds its
        attempt taken, and the lease it holds expires."""

        def claim() -> ClaimedAttempt:
            conn = worker_connection()
            events = Outbox()
            with pipelined_transaction(conn):
                claimed = attempts.claim(
                    conn, ref, worker, os.getpid(), get_settings().lease_ttl, events
                )
            return cls(claimed, events, worker)

        try:
            return outages.retry(lambda: retry_conflicts(claim))
        except NotRunnable:
            log.info("attempt %s is not queued any more; nothing to do", ref.attempt_id)
            return None

    def log_context(self) -> AbstractContextManager[None]:
        """Log lines about this attempt carry its job, step and attempt (JSON fields)."""
        c = self.claim
        return log_context(
            job_id=c.job_id, step=c.step_key, attempt=c.attempt_number, attempt_id=c.attempt_id
        )

    @property
    def holds_claim_events(self) -> bool:
        return self._claim_events is not None

    def publish_claim_events(self) -> None:
        """Publish the claim's events now, if still held (the heartbeat, for a step that runs
        longer than PUBLISH_DELAY)."""
        events = self._take_claim_events()
        if events is not None:
            events.flush(None)  # a claim ends no job

    def _take_claim_events(self) -> Outbox | None:
        with self._lock:
            events, self._claim_events = self._claim_events, None
        return events

    def record(self, outcome: Outcome, successor: Successor | None = None) -> str:
        """Write the outcome (fenced by the lease) and publish/enqueue what follows, with the
        claim's events if still held: one Redis round trip. Returns what was recorded: the
        attempt's status, or "dropped" (cancelled, or its lease lost). With `successor`, a
        single step made ready is claimed for it (`self.successor`) instead of enqueued."""
        with self.log_context():
            return self._record(outcome, successor)

    def record_traced(
        self, outcome: Outcome, span: Span, successor: Successor | None = None
    ) -> None:
        """`record`, with what was recorded on the attempt's span (a failure as its error)."""
        status = self.record(outcome, successor)
        span.set_attribute("jobmonitor.status", status)
        if status not in ("completed", "dropped"):
            mark_error(span, f"attempt {status}")

    def describe(self, span: Span) -> None:
        """Name the attempt's trace span after its step, with the job, step and attempt."""
        span.update_name(f"step {self.claim.step_key}")
        span.set_attribute("jobmonitor.step", self.claim.step_key)
        span.set_attribute("jobmonitor.attempt", self.claim.attempt_number)

    def _record(self, outcome: Outcome, successor: Successor | None) -> str:
        if outcome.claim_events_sent:  # by the work horse, from its copy of this object
            self._take_claim_events()
        if outcome.interrupted:
            log.info(
                "attempt %s was cancelled or lost its lease; its result is dropped",
                self.claim.attempt_id,
            )
            self._send(Outbox())
            return "dropped"
        status, outbox = outages.retry(
            lambda: retry_conflicts(lambda: self._write(outcome, successor))
        )
        if status is not None:
            elapsed = time.monotonic() - self._claimed_at
            step_metrics.observe(self.claim, status, elapsed, outbox.events)
        self._send(outbox)
        return status or "dropped"

    def _write(
        self, outcome: Outcome, successor: Successor | None = None
    ) -> tuple[str | None, Outbox]:
        """The outcome's transaction: the status recorded and what to send after it (None and
        nothing when the lease is gone); with `successor`, perhaps the next step's claim."""
        conn = worker_connection()
        outbox = Outbox()
        self.successor = None
        try:
            with pipelined_transaction(conn):
                if outcome.failure is None:
                    attempts.finish_success(
                        conn, self.claim, outcome.output, outcome.records, outbox
                    )
                    next_claim = claim_successor(conn, outbox, successor) if successor else None
                else:
                    attempts.finish_failure(
                        conn, self.claim, outcome.failure, outcome.records, outbox
                    )
                    next_claim = None
        except NotRunnable:
            log.warning(
                "attempt %s lost its lease before it finished; its result is dropped",
                self.claim.attempt_id,
            )
            return None, Outbox()
        except (psycopg.errors.DataError, psycopg.errors.ProgramLimitExceeded) as exc:
            if outcome.failure is not None and outcome.records == Records():
                raise
            return self._write(_refused(outcome, exc))  # at most twice: then no records
        if next_claim is not None:
            assert successor is not None
            self.successor = ClaimedAttempt(next_claim[0], next_claim[1], successor.worker)
        return ("completed" if outcome.failure is None else str(outcome.failure.status)), outbox

    def _send(self, outbox: Outbox) -> None:
        outbox.absorb(self._take_claim_events())
        outages.retry(lambda: outbox.flush(worker_connection()))


def _refused(outcome: Outcome, exc: psycopg.Error) -> Outcome:
    """What to record when PostgreSQL refused an outcome (what workers.storable did not
    catch): the step's failure with the server's reason, without its records if they were
    already part of a refused failure."""
    from workers.runner import Outcome

    reason = (str(exc).splitlines() or [type(exc).__name__])[0]
    if outcome.failure is None:
        failure = Failure(
            AttemptStatus.FAILED, "OutputNotStorable", f"PostgreSQL refused it: {reason}"
        )
        return Outcome(failure=failure, records=outcome.records)
    return Outcome(failure=outcome.failure, records=Records())


@contextmanager
def attempt_span(ref: AttemptRef) -> Iterator[Span]:
    """The trace span of one attempt, from its claim to its recorded outcome (in the worker
    process: a forking worker's horse exits without flushing spans)."""
    attributes = {
        "jobmonitor.job_id": str(ref.job_id),
        "jobmonitor.attempt_id": str(ref.attempt_id),
    }
    with span("step attempt", kind="consumer", **attributes) as current:
        yield current
