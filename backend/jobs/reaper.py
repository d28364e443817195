"""The reaper's pass, run every few seconds by `jobmonitor reaper` (or `up`):

1. attempts whose lease expired become `lost` and are retried (or fail their job);
2. queued attempts whose message is missing from Redis are enqueued again (Redis restarted
   or was flushed; Postgres is the record);
3. steps waiting for a retry whose backoff has elapsed get their next attempt (normally the
   retry timer of the process that recorded the failure has started it at its due time,
   backend.jobs.retry_timer: the pass catches up a timer that was lost).

Each item is its own short transaction, so one bad row never blocks the rest.

`serve` runs the passes for `jobmonitor reaper` and rides out outages of PostgreSQL and
Redis (backend.outages). Once it has reconnected to the database, it declares no lease
expired for one lease TTL (plus a heartbeat and the longest reconnect backoff): the server's
clock ran on while it was away, and the workers, reconnecting too, renew their leases or
record their outcomes first. A step is not run twice because the
database restarted.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from backend import outages
from backend.db import connect, retry_conflicts
from backend.errors import NotFound
from backend.jobs import queries, scheduler
from backend.jobs.attempts import Failure, NotRunnable, Records, claim_from_row, finish_failure
from backend.jobs.outbox import Outbox
from backend.jobs.rows import DueRetry, ExpiredAttempt, QueuedAttempt, StepToRetry
from backend.jobs.states import A, AttemptStatus, S, StepStatus, sql_literal
from backend.metrics import count_recoveries
from backend.queue import AttemptRef, Dispatch, is_waiting, step_queue
from backend.settings import get_settings

log = logging.getLogger(__name__)
BATCH = 500
Item = TypeVar("Item", ExpiredAttempt, DueRetry)


@dataclass
class ReapReport:
    lost: list[uuid.UUID] = field(default_factory=list)
    requeued: list[uuid.UUID] = field(default_factory=list)
    retried: list[uuid.UUID] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.lost) + len(self.requeued) + len(self.retried)


def reap(
    conn: psycopg.Connection[Any], queued_grace_seconds: float = 5.0, expire_leases: bool = True
) -> ReapReport:
    """One pass. `conn` must not be inside a transaction: every item commits on its own."""
    report = ReapReport()
    for attempt in _expired(conn) if expire_leases else []:
        if _run(conn, _mark_lost, attempt):
            report.lost.append(attempt.id)
    for queued in _stale_queued(conn, queued_grace_seconds):
        if not is_waiting(step_queue(), queued.id):
            ref = AttemptRef(queued.id, queued.step_id, queued.job_id)
            Outbox(dispatches=[Dispatch(ref, queued.timeout_seconds)]).flush(None)
            report.requeued.append(queued.id)
    for due in _retries_due(conn):
        if _run(conn, _start_retry, due):
            report.retried.append(due.id)
    count_recoveries(len(report.lost), len(report.requeued), len(report.retried))
    return report


def serve(
    stop: threading.Event, every: float, on_report: Callable[[ReapReport], None], name: str
) -> None:
    """A pass every `every` seconds until `stop` is set, each recorded under `name`; never
    ends on an outage."""
    conn: psycopg.Connection[Any] | None = None
    backoff = outages.Backoff()
    lost_database = False
    leases_from = 0.0  # monotonic time from which expired leases are declared lost
    while not stop.is_set():
        try:
            if conn is None or conn.closed:
                conn = connect(autocommit=True)
            if lost_database:  # back: the workers get the time to renew, and to reconnect
                settings = get_settings()
                grace = settings.lease_ttl + settings.heartbeat_every + outages.MAX_DELAY
                leases_from, lost_database = time.monotonic() + grace, False
            report = reap_and_record(conn, name, expire_leases=time.monotonic() >= leases_from)
        except Exception as exc:
            if not outages.noted(exc):
                log.exception("reaper pass failed; trying again")
            if outages.dependency_of(exc) == "PostgreSQL" or (conn is not None and conn.closed):
                lost_database = True
                if conn is not None:
                    conn.close()
            stop.wait(backoff.next())
            continue
        for outage in outages.OUTAGES.values():
            outage.recovered()
        backoff.reset()
        on_report(report)
        stop.wait(every)
    if conn is not None:
        conn.close()


def _run(
    conn: psycopg.Connection[Any],
    work: Callable[[psycopg.Connection[Any], Item], Outbox | None],
    item: Item,
) -> bool:
    def attempt() -> Outbox | None:
        with conn.transaction():
            return work(conn, item)

    try:
        outbox = retry_conflicts(attempt)
    except NotRunnable:
        return False
    if outbox is None:
        return False
    outbox.flush(conn)
    return True


def _expired(conn: psycopg.Connection[Any]) -> list[ExpiredAttempt]:
    return (
        conn.cursor(row_factory=class_row(ExpiredAttempt))
        .execute(
            f"""
            SELECT a.id, a.job_id, a.step_id, a.workspace_id, a.step_key, s.name AS step_name,
                   a.attempt_number, a.lease_token, a.worker_name, a.pid,
                   coalesce(EXTRACT(EPOCH FROM now() - a.heartbeat_at)::float, 0) AS silent_seconds
            FROM step_attempts a JOIN job_steps s ON s.id = a.step_id
            WHERE a.status = {sql_literal(A.RUNNING)} AND a.lease_expires_at < now()
            ORDER BY a.lease_expires_at LIMIT %s
            """,
            (BATCH,),
        )
        .fetchall()
    )


def _mark_lost(conn: psycopg.Connection[Any], attempt: ExpiredAttempt) -> Outbox | None:
    outbox = Outbox()
    failure = Failure(
        AttemptStatus.LOST,
        "LeaseExpired",
        f"worker {attempt.worker_name} (pid {attempt.pid}) stopped answering: "
        f"no heartbeat for {attempt.silent_seconds:.1f} s",
    )
    finish_failure(conn, claim_from_row(attempt), failure, Records(), outbox, still_expired=True)
    return outbox


def _stale_queued(conn: psycopg.Connection[Any], grace: float) -> list[QueuedAttempt]:
    return (
        conn.cursor(row_factory=class_row(QueuedAttempt))
        .execute(
            f"""
            SELECT a.id, a.step_id, a.job_id, s.timeout_seconds
            FROM step_attempts a JOIN job_steps s ON s.id = a.step_id
            WHERE a.status = {sql_literal(A.QUEUED)} AND a.created_at < now() - make_interval(secs => %s)
            ORDER BY a.created_at LIMIT %s
            """,
            (grace, BATCH),
        )
        .fetchall()
    )


def _retries_due(conn: psycopg.Connection[Any]) -> list[DueRetry]:
    return (
        conn.cursor(row_factory=class_row(DueRetry))
        .execute(
            f"""
            SELECT id, job_id FROM job_steps
            WHERE status = {sql_literal(S.RETRYING)} AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT %s
            """,
            (BATCH,),
        )
        .fetchall()
    )


def start_retry(conn: psycopg.Connection[Any], step_id: uuid.UUID, job_id: uuid.UUID) -> bool:
    """Start a step's next attempt if it is due (the retry timer, at its due time)."""
    return _run(conn, _start_retry, DueRetry(id=step_id, job_id=job_id))


def _start_retry(conn: psycopg.Connection[Any], due: DueRetry) -> Outbox | None:
    outbox = Outbox()
    try:
        job = queries.get_job(conn, due.job_id, lock=True, names=False)
    except NotFound:  # deleted meanwhile
        return None
    step = (
        conn.cursor(row_factory=class_row(StepToRetry))
        .execute(
            f"""
            SELECT id, step_key, name, timeout_seconds, attempt_count, retry, max_attempts
            FROM job_steps
            WHERE id = %s AND status = {sql_literal(S.RETRYING)} AND next_attempt_at <= now()
            """,
            (due.id,),
        )
        .fetchone()
    )
    if step is None or not scheduler.job_is_active(job.status):
        return None
    if (
        scheduler.new_attempt(conn, job, step, outbox, from_status=StepStatus.RETRYING).result()
        is None
    ):
        return None
    scheduler.settle_job(conn, job.id, outbox)
    return outbox


def reap_and_record(
    conn: psycopg.Connection[Any], reaper: str, expire_leases: bool = True
) -> ReapReport:
    """One pass, then its record in `reaper_passes` (what `doctor` shows): when it started
    (database clock), and what it recovered when it recovered anything (lost and re-enqueued
    attempt ids, the ids of steps whose retry it started, and the counts)."""
    row = conn.execute("SELECT now() AS started").fetchone()
    assert row is not None
    report = reap(conn, expire_leases=expire_leases)
    recovered = {
        "lost": [str(i) for i in report.lost[:50]],
        "requeued": [str(i) for i in report.requeued[:50]],
        "retried": [str(i) for i in report.retried[:50]],
        "counts": {
            "lost": len(report.lost),
            "requeued": len(report.requeued),
            "retried": len(report.retried),
        },
    }
    conn.execute(
        """
        INSERT INTO reaper_passes AS p (reaper, last_pass_at, passes, recovered_total,
                                        last_recovery_at, last_recovered)
        VALUES (%(reaper)s, %(started)s, 1, %(total)s,
                CASE WHEN %(total)s > 0 THEN %(started)s END,
                CASE WHEN %(total)s > 0 THEN %(recovered)s::jsonb END)
        ON CONFLICT (reaper) DO UPDATE SET
            last_pass_at = excluded.last_pass_at, passes = p.passes + 1,
            recovered_total = p.recovered_total + excluded.recovered_total,
            last_recovery_at = coalesce(excluded.last_recovery_at, p.last_recovery_at),
            last_recovered = coalesce(excluded.last_recovered, p.last_recovered)
        """,
        {
            "reaper": reaper[:200],
            "started": row["started"],
            "total": report.total,
            "recovered": Jsonb(recovered),
        },
    )
    return report
