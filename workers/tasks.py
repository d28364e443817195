"""rq entry points. Thin: claim, run, record. Idempotent: a redelivered or duplicated message
finds its attempt no longer queued and does nothing."""

from __future__ import annotations

import logging
import os
import socket
import uuid

from rq import get_current_job

from backend.db import worker_connection
from backend.jobs import attempts
from backend.jobs.outbox import Outbox
from backend.settings import get_settings
from workers.runner import execute

log = logging.getLogger(__name__)


def run_attempt(attempt_id: str) -> None:
    conn = worker_connection()
    settings = get_settings()
    outbox = Outbox()
    with conn.transaction():
        claim = attempts.claim(conn, uuid.UUID(attempt_id), _worker_name(), os.getpid(), settings.lease_ttl, outbox)
    outbox.flush()
    if claim is None:
        log.info("attempt %s is not queued any more; nothing to do", attempt_id)
        return
    outcome, ctx = execute(claim)
    if outcome.interrupted:
        log.info("attempt %s was cancelled or lost its lease; its result is dropped", attempt_id)
        return
    records = ctx.records.take()
    with conn.transaction():
        if outcome.failure is None:
            written = attempts.finish_success(conn, claim, outcome.output, records, outbox)
        else:
            written = attempts.finish_failure(conn, claim, outcome.failure, records, outbox)
    outbox.flush()
    if not written:
        log.warning("attempt %s lost its lease before it finished; its result is dropped", attempt_id)


def _worker_name() -> str:
    job = get_current_job()
    worker = getattr(job, "worker_name", None) if job else None
    return worker or f"{socket.gethostname()}.{os.getpid()}"
