"""The scheduler's side of continuous workflows: LISTEN on their channels, and check the ones
notified, due by interval, or woken while their job ran. A check calls the `expected_work`
function and starts a job when it reports work, unless the job it started last is still
active; the workflow's concurrency policy still holds (a refusal is recorded, not forced).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

import psycopg
from psycopg import sql

from backend.automation.contain import contained
from backend.automation.start import start_job
from backend.continuous import queries
from backend.continuous.rows import ContinuousRow
from backend.db import connect
from backend.jobs.outbox import Outbox
from backend.steps import REGISTRY

log = logging.getLogger(__name__)


class Listener:
    """A connection of its own that LISTENs on the enabled channels; `wait` is the pause
    between the scheduler's passes and returns the channels notified meanwhile."""

    def __init__(self) -> None:
        self.conn = connect(autocommit=True)
        self.channels: set[str] = set()

    def close(self) -> None:
        self.conn.close()

    def sync(self, wanted: set[str]) -> None:
        for channel in sorted(wanted - self.channels):
            self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        for channel in sorted(self.channels - wanted):
            self.conn.execute(sql.SQL("UNLISTEN {}").format(sql.Identifier(channel)))
        self.channels = set(wanted)

    def wait(self, timeout: float, stop: threading.Event) -> set[str]:
        """Until a notification arrives, `timeout` passes or `stop` is set (checked every
        half second); a burst of notifications counts once per channel."""
        deadline = time.monotonic() + timeout
        woken: set[str] = set()
        while not woken and not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for notify in self.conn.notifies(timeout=min(left, 0.5), stop_after=1):
                woken.add(notify.channel)
        for notify in self.conn.notifies(timeout=0.01):
            woken.add(notify.channel)
        return woken


def check_due(conn: psycopg.Connection[Any], woken: set[str]) -> int:
    """Check what is due; the number of jobs started. `conn` is not inside a transaction."""
    started = 0
    for ident in queries.due_ids(conn, sorted(woken)):
        with contained(f"continuous workflow {ident}"):
            outbox = Outbox()
            with conn.transaction():
                row = queries.claim(conn, ident)
                if row is not None and _check(conn, row, outbox):
                    started += 1
            outbox.flush(conn)
    return started


def _check(conn: psycopg.Connection[Any], row: ContinuousRow, outbox: Outbox) -> bool:
    if row.last_job_active:  # check again once it has ended
        queries.record_check(conn, row.id, None, None, woken=True)
        return False
    result = _ask(row)
    if "error" in result or not has_work(result.get("pending")):
        queries.record_check(conn, row.id, result, None, woken=False)
        return False
    key = f"continuous:{row.id}:{uuid.uuid4()}"
    started = start_job(conn, row.workspace_id, row.workflow_id, row.input_payload, outbox, key)
    if started.refusal:
        result["refused"] = started.refusal
    queries.record_check(conn, row.id, result, started.job_id, woken=False)
    return started.job_id is not None


def _ask(row: ContinuousRow) -> dict[str, Any]:
    """The function's answer as {"pending": ...}, or {"error": ...} (user code may fail)."""
    fn = REGISTRY.expected_work.get(row.expected_work)
    if fn is None:
        return {"error": f"no expected_work function named {row.expected_work!r}"}
    try:
        return {"pending": fn(dict(row.input_payload or {}))}
    except Exception as exc:
        log.warning("expected_work %s failed: %s", row.expected_work, exc)
        return {"error": f"{type(exc).__name__}: {exc}"}


def has_work(result: Any) -> bool:
    """Whether an expected_work answer reports pending work: a positive count anywhere (a dict
    of counts per stage, a number, or a bool)."""
    if isinstance(result, bool):
        return result
    if isinstance(result, int | float):
        return result > 0
    if isinstance(result, dict):
        return any(has_work(v) for v in result.values() if isinstance(v, int | float | bool))
    return False
