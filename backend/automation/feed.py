"""The scheduler's feed of job events: what ended, failed or retried, read from `job_events`
in id order by one scheduler at a time (the cursor row is locked with SKIP LOCKED) and handed
to the consumers (triggers, alerts) in the same transaction that moves the cursor, so each
event is handled once.

Event ids come from a sequence: a transaction that took a smaller id can commit after one that
took a larger id. Ids skipped over are remembered as gaps and looked for again for
`GAP_SECONDS` (a rolled-back transaction leaves a gap that never fills).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from backend.automation.contain import contained
from backend.jobs.outbox import Outbox

NAME = "events"
BATCH = 5000
GAP_SECONDS = 60.0
MAX_GAPS = 10_000


@dataclass(frozen=True, slots=True)
class FeedEvent:
    id: int
    workspace_id: uuid.UUID
    job_id: uuid.UUID
    workflow_id: uuid.UUID
    type: str
    step_key: str | None
    from_status: str | None
    to_status: str | None
    data: dict[str, Any] | None
    created_at: datetime


Consumer = Callable[[psycopg.Connection[Any], FeedEvent, Outbox], None]
TYPES = ("workflow_completed", "workflow_failed", "retrying")


def consume(conn: psycopg.Connection[Any], consumers: list[Consumer]) -> int:
    """Hand the new events to every consumer; the number of events read. `conn` must not be
    inside a transaction."""
    outbox = Outbox()
    with conn.transaction():
        cursor = _lock_cursor(conn)
        if cursor is None:  # another scheduler is reading the feed
            return 0
        last_id, gaps = cursor
        events = _read(conn, last_id, [int(g[0]) for g in gaps])
        for event in events:
            if event.type in TYPES:
                for consumer in consumers:
                    _handle(conn, consumer, event, outbox)
        _save(conn, *advance(last_id, gaps, [e.id for e in events], time.time()))
    outbox.flush(conn)
    return len(events)


def _handle(
    conn: psycopg.Connection[Any], consumer: Consumer, event: FeedEvent, outbox: Outbox
) -> None:
    """One consumer, one event, in a savepoint: a bug skips only this (logged)."""
    mine = Outbox()
    with contained(f"{consumer.__module__} on event {event.id}"), conn.transaction():
        consumer(conn, event, mine)
        outbox.absorb(mine)


def advance(
    last_id: int, gaps: list[list[float]], seen: list[int], now: float
) -> tuple[int, list[list[float]]]:
    """The new position and the gaps still worth looking for: earlier gaps not seen now and
    younger than GAP_SECONDS, plus the ids skipped over in this read."""
    found = set(seen)
    kept = [g for g in gaps if int(g[0]) not in found and now - g[1] < GAP_SECONDS]
    newest = last_id
    for event_id in sorted(i for i in seen if i > last_id):
        kept += [[missing, now] for missing in range(newest + 1, event_id)]
        newest = event_id
    return newest, kept[-MAX_GAPS:]


def _lock_cursor(conn: psycopg.Connection[Any]) -> tuple[int, list[list[float]]] | None:
    conn.execute(
        """
        INSERT INTO automation_cursors (name, last_id, gaps)
        SELECT %s, coalesce(max(id), 0), '[]'::jsonb FROM job_events
        ON CONFLICT (name) DO NOTHING
        """,
        (NAME,),
    )
    row = conn.execute(
        "SELECT last_id, gaps FROM automation_cursors WHERE name = %s FOR UPDATE SKIP LOCKED",
        (NAME,),
    ).fetchone()
    return None if row is None else (row["last_id"], row["gaps"])


def _read(conn: psycopg.Connection[Any], last_id: int, gap_ids: list[int]) -> list[FeedEvent]:
    """The events after `last_id` and those of the gaps that have appeared; only the types
    the consumers want carry their data."""
    return (
        conn.cursor(row_factory=class_row(FeedEvent))
        .execute(
            """
            SELECT id, workspace_id, job_id, workflow_id, type, step_key, from_status,
                   to_status, CASE WHEN type = ANY(%s) THEN data END AS data, created_at
            FROM job_events WHERE id > %s OR id = ANY(%s)
            ORDER BY id LIMIT %s
            """,
            (list(TYPES), last_id, gap_ids, BATCH),
        )
        .fetchall()
    )


def _save(conn: psycopg.Connection[Any], last_id: int, gaps: list[list[float]]) -> None:
    conn.execute(
        "UPDATE automation_cursors SET last_id = %s, gaps = %s, updated_at = now() WHERE name = %s",
        (last_id, Jsonb(gaps), NAME),
    )
