"""rq entry points. Thin: claim, run, record (workers.claimed has the life cycle).
Idempotent: a redelivered or duplicated message finds its attempt no longer queued and does
nothing.

Our workers (workers.worker) call `run_message` for a step message without rq's job machinery;
`run_attempt` is the entry point rq itself calls (any other rq worker). With SimpleWorker
everything happens here, in the worker process; the forking worker claims and records in its
parent and runs only the step function in its work horse (workers.worker.Worker)."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Sequence
from typing import Any

from rq import get_current_job

from backend.db import worker_connection
from backend.jobs import attempts
from backend.queue import AttemptRef
from backend.tracing import Span
from workers import continuation, watchdog
from workers.claimed import ClaimedAttempt, attempt_span
from workers.runner import execute

log = logging.getLogger(__name__)


def run_attempt(
    attempt_id: str, step_id: str | None = None, job_id: str | None = None, starts_job: bool = True
) -> None:
    run_message([attempt_id, step_id, job_id, starts_job], _worker_name())


def run_message(args: Sequence[Any], worker: str) -> None:
    """Claim the attempt a step message names for `worker`, run it and record its outcome
    (our SimpleWorker calls this directly, see workers.worker)."""
    ref = to_ref(*args)
    with attempt_span(ref) as span:
        claimed = ClaimedAttempt.claim_attempt(ref, worker)
        if claimed is not None:
            _run_claimed(claimed, span)
            continuation.hand_over(claimed.successor)


def run_successor(claimed: ClaimedAttempt) -> ClaimedAttempt | None:
    """Run an attempt claimed with its parent's completion (workers.continuation); returns
    the attempt its own completion claimed, if any."""
    ref = AttemptRef(claimed.claim.attempt_id, claimed.claim.step_id, claimed.claim.job_id)
    with attempt_span(ref) as span:
        _run_claimed(claimed, span)
    return claimed.successor


def _run_claimed(claimed: ClaimedAttempt, span: Span) -> None:
    claimed.describe(span)
    dog = watchdog.sidecar()  # `jobmonitor worker --simple`: beats and kills from outside
    if dog is not None:
        dog.watch(claimed.claim)
    try:
        outcome = execute(claimed)
    finally:
        if dog is not None:
            dog.unwatch()
    claimed.record_traced(outcome, span, continuation.wanted())


def to_ref(
    attempt_id: str, step_id: str | None = None, job_id: str | None = None, starts_job: bool = True
) -> AttemptRef:
    if step_id and job_id:
        return AttemptRef(
            uuid.UUID(attempt_id), uuid.UUID(step_id), uuid.UUID(job_id), bool(starts_job)
        )
    # a message from before step/job ids were carried
    return attempts.find_ref(worker_connection(), uuid.UUID(attempt_id))


def _worker_name() -> str:
    job = get_current_job()
    worker = getattr(job, "worker_name", None) if job else None
    return worker or f"{socket.gethostname()}.{os.getpid()}"
