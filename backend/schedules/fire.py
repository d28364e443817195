"""The scheduler's pass over schedules: each due schedule is locked (SKIP LOCKED: another
scheduler process takes the next one) and, in the same transaction, each due time it fires is
recorded once (a unique key per schedule and due time), the overlap policy is applied, the
job is created and the schedule moves to its next due time.

Catch-up after downtime: `none` fires a due time only when it is late by at most the grace
(plus the schedule's jitter), `last` fires the newest missed one, `all` each missed one,
oldest first, at most `catchup_max`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from backend.automation.contain import contained
from backend.automation.start import start_job
from backend.errors import Conflict
from backend.jobs import service as jobs
from backend.jobs.outbox import Outbox
from backend.schedules import queries
from backend.schedules.rows import Catchup, FireStatus, Overlap, ScheduleRow
from backend.schedules.timing import jitter, missed, next_after

log = logging.getLogger(__name__)
BATCH = 100


@dataclass
class FireReport:
    started: list[uuid.UUID] = field(default_factory=list)  # job ids
    skipped: int = 0
    refused: int = 0


def fire_due(conn: psycopg.Connection[Any], grace_seconds: float = 60.0) -> FireReport:
    """One pass. `conn` must not be inside a transaction: each schedule commits on its own."""
    report = FireReport()
    for schedule_id in queries.due_schedule_ids(conn, BATCH):
        with contained(f"schedule {schedule_id}"):
            outbox = Outbox()
            with conn.transaction():
                schedule = queries.claim(conn, schedule_id)
                if schedule is not None and schedule.enabled:
                    _release_queued(conn, schedule, outbox, report)
                    now = queries.db_now(conn)
                    if schedule.next_fire_at <= now:
                        _fire(conn, schedule, now, grace_seconds, outbox, report)
            outbox.flush(conn)
    return report


def _fire(
    conn: psycopg.Connection[Any],
    schedule: ScheduleRow,
    now: datetime,
    grace: float,
    outbox: Outbox,
    report: FireReport,
) -> None:
    for due in _due_times(schedule, now, grace):
        _fire_one(conn, schedule, due, outbox, report)
    upcoming = next_after(schedule.timing, now)
    queries.advance(conn, schedule.id, upcoming, upcoming + jitter(schedule.jitter_seconds), True)


def _due_times(schedule: ScheduleRow, now: datetime, grace: float) -> list[datetime]:
    limit = schedule.catchup_max if schedule.catchup == Catchup.ALL else 1
    times, dropped = missed(schedule.timing, schedule.next_due_at, now, limit)
    if schedule.catchup == Catchup.NONE:
        on_time = [
            t for t in times if now - t <= timedelta(seconds=grace + schedule.jitter_seconds)
        ]
        dropped += len(times) - len(on_time)
        times = on_time
    if dropped:
        log.warning(
            "schedule %s: %d missed due time(s) not fired (catchup=%s)",
            schedule.id,
            dropped,
            schedule.catchup,
        )
    return times


def _fire_one(
    conn: psycopg.Connection[Any],
    schedule: ScheduleRow,
    due: datetime,
    outbox: Outbox,
    report: FireReport,
) -> None:
    fire_id = queries.insert_fire(conn, schedule, due, FireStatus.STARTED)
    if fire_id is None:  # another scheduler fired this due time
        return
    active = queries.active_jobs(conn, schedule.id)
    if active and schedule.overlap == Overlap.SKIP:
        reason = f"job {active[0]} of this schedule is still active (overlap=skip)"
        queries.settle_fire(conn, fire_id, FireStatus.SKIPPED, None, reason)
        report.skipped += 1
    elif active and schedule.overlap == Overlap.QUEUE_ONE:
        _queue(conn, schedule, fire_id, active[0], report)
    else:
        if active and schedule.overlap == Overlap.CANCEL_RUNNING:
            _cancel(conn, schedule, active, due, outbox)
        _start(conn, schedule, fire_id, due, outbox, report)


def _queue(
    conn: psycopg.Connection[Any],
    schedule: ScheduleRow,
    fire_id: uuid.UUID,
    active: uuid.UUID,
    report: FireReport,
) -> None:
    if queries.queued_fire(conn, schedule.id) is None:
        reason = f"waits for job {active} to end (overlap=queue_one)"
        queries.settle_fire(conn, fire_id, FireStatus.QUEUED, None, reason)
    else:
        reason = "another due time is already queued (overlap=queue_one)"
        queries.settle_fire(conn, fire_id, FireStatus.SKIPPED, None, reason)
        report.skipped += 1


def _release_queued(
    conn: psycopg.Connection[Any], schedule: ScheduleRow, outbox: Outbox, report: FireReport
) -> None:
    """Start the queued due time once the jobs it waited for have ended."""
    queued = queries.queued_fire(conn, schedule.id)
    if queued is not None and not queries.active_jobs(conn, schedule.id):
        _start(conn, schedule, queued.id, queued.due_at, outbox, report)


def _cancel(
    conn: psycopg.Connection[Any],
    schedule: ScheduleRow,
    active: list[uuid.UUID],
    due: datetime,
    outbox: Outbox,
) -> None:
    reason = f"replaced by schedule {schedule.name} due {due.isoformat()} (overlap=cancel_running)"
    for job_id in active:
        try:
            with conn.transaction():
                jobs.cancel_job(conn, schedule.workspace_id, job_id, outbox, reason=reason)
        except Conflict:  # ended meanwhile
            continue


def _start(
    conn: psycopg.Connection[Any],
    schedule: ScheduleRow,
    fire_id: uuid.UUID,
    due: datetime,
    outbox: Outbox,
    report: FireReport,
) -> None:
    key = f"schedule:{schedule.id}:{due.isoformat()}"
    started = start_job(
        conn, schedule.workspace_id, schedule.workflow_id, schedule.input_payload, outbox, key
    )
    if started.job_id is None:
        queries.settle_fire(conn, fire_id, FireStatus.REFUSED, None, started.refusal)
        report.refused += 1
    else:
        queries.settle_fire(conn, fire_id, FireStatus.STARTED, started.job_id, None)
        report.started.append(started.job_id)
