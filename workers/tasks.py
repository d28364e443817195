"""rq entry points. Thin: claim, run, record. Idempotent: a redelivered or duplicated message
finds its attempt no longer queued and does nothing.

With SimpleWorker everything happens here, in the worker process. With the forking worker
(workers.worker.Worker) the parent claims and records with its long-lived connection, and the
work horse only runs the step function: `PREPARED` hands it the claim across the fork."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

from rq import get_current_job

from backend.db import pipelined_transaction, worker_connection
from backend.jobs import attempts
from backend.jobs.attempts import Claim, NotRunnable
from backend.jobs.outbox import Outbox
from backend.queue import AttemptRef
from backend.settings import get_settings
from workers import outcome_file
from workers.runner import Outcome, execute

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """Set by the forking worker's parent before it forks the horse for this attempt."""

    claim: Claim | None
    outcome_path: Path
    unsent: Outbox | None = (
        None  # the claim's events: the horse publishes them if the step runs long
    )


PREPARED: dict[str, Prepared] = {}


def run_attempt(
    attempt_id: str, step_id: str | None = None, job_id: str | None = None, starts_job: bool = True
) -> None:
    prepared = PREPARED.get(attempt_id)
    if prepared is not None:  # in a work horse: run the step, hand the outcome to the parent
        if prepared.claim is not None:
            outcome_file.write(prepared.outcome_path, execute(prepared.claim, prepared.unsent))
        return
    claimed = claim_attempt(
        to_ref(attempt_id, step_id, job_id, starts_job), _worker_name(), publish=False
    )
    if claimed is not None:
        claim, unsent = claimed
        record(claim, execute(claim, unsent))


def to_ref(
    attempt_id: str, step_id: str | None = None, job_id: str | None = None, starts_job: bool = True
) -> AttemptRef:
    if step_id and job_id:
        return AttemptRef(
            uuid.UUID(attempt_id), uuid.UUID(step_id), uuid.UUID(job_id), bool(starts_job)
        )
    # a message from before step/job ids were carried
    return attempts.find_ref(worker_connection(), uuid.UUID(attempt_id))


def claim_attempt(
    ref: AttemptRef, worker: str, publish: bool = True
) -> tuple[Claim, Outbox] | None:
    """Claim in its own transaction. With `publish`, its events go out now; otherwise the
    caller sends the returned outbox (see Heartbeat.watch)."""
    conn = worker_connection()
    outbox = Outbox()
    try:
        with pipelined_transaction(conn):
            claim = attempts.claim(conn, ref, worker, os.getpid(), get_settings().lease_ttl, outbox)
    except NotRunnable:
        log.info("attempt %s is not queued any more; nothing to do", ref.attempt_id)
        return None
    if publish:
        outbox.flush()
    return claim, outbox


def record(claim: Claim, outcome: Outcome) -> None:
    """Write the attempt's outcome (fenced by its lease) and publish/enqueue what follows,
    together with the claim's events if they are still unsent: one Redis round trip."""
    if outcome.interrupted:
        log.info(
            "attempt %s was cancelled or lost its lease; its result is dropped", claim.attempt_id
        )
        _send(outcome.unsent)
        return
    conn = worker_connection()
    outbox = Outbox()
    try:
        with pipelined_transaction(conn):
            if outcome.failure is None:
                attempts.finish_success(conn, claim, outcome.output, outcome.records, outbox)
            else:
                attempts.finish_failure(conn, claim, outcome.failure, outcome.records, outbox)
    except NotRunnable:
        log.warning(
            "attempt %s lost its lease before it finished; its result is dropped", claim.attempt_id
        )
        _send(outcome.unsent)
        return
    outbox.absorb(outcome.unsent)
    outbox.flush()


def _send(outbox: Outbox | None) -> None:
    if outbox is not None:
        outbox.flush()


def _worker_name() -> str:
    job = get_current_job()
    worker = getattr(job, "worker_name", None) if job else None
    return worker or f"{socket.gethostname()}.{os.getpid()}"
