"""One heartbeat thread per worker process, beating for the attempt the process is running:
it extends the lease, saves buffered log lines and progress, and notices cancellation (or a
lost lease) and interrupts the step. Started once, not per step; its database connection is
opened on the first beat, so steps shorter than one interval never pay for it."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import psycopg

from backend.db import connect
from backend.jobs import attempts
from backend.jobs.attempts import Claim, Records
from backend.jobs.outbox import Outbox
from backend.jobs.states import record_event
from backend.settings import get_settings
from workers.context import RunContext

log = logging.getLogger(__name__)


PUBLISH_DELAY = 0.05  # seconds a claim's events may wait to travel with the step's outcome


class Heartbeat:
    def __init__(self) -> None:
        self._wake = threading.Event()
        self._beating = threading.Lock()  # held during a beat: unwatch() waits for it
        self._current: tuple[Claim, RunContext] | None = None
        self._unsent: Outbox | None = None
        self._due = 0.0
        self._publish_due = 0.0
        self._pid: int | None = None
        self._conn: psycopg.Connection[Any] | None = None

    def watch(self, claim: Claim, ctx: RunContext, unsent: Outbox | None = None) -> None:
        """Beat for this attempt from now on. `unsent` (the claim's events) is published if
        the step is still running after PUBLISH_DELAY; a faster step hands it back through
        unwatch() to go out with its outcome in one Redis round trip."""
        if self._pid != os.getpid():  # first use in this process (or a forked horse)
            self._pid, self._conn = os.getpid(), None
            threading.Thread(target=self._loop, name="heartbeat", daemon=True).start()
        ctx.beat_now = self._wake
        now = time.monotonic()
        self._due, self._publish_due = now + get_settings().heartbeat_every, now + PUBLISH_DELAY
        self._unsent = unsent
        self._current = (claim, ctx)

    def unwatch(self) -> Outbox | None:
        """Stop beating; returns the claim's events if they were not published yet."""
        with self._beating:
            self._current = None
            unsent, self._unsent = self._unsent, None
        return unsent

    def _loop(self) -> None:
        interval = get_settings().heartbeat_every
        while True:
            asked = self._wake.wait(self._timeout(interval))
            self._wake.clear()
            with self._beating:
                current = self._current
                if current is None:
                    continue
                now = time.monotonic()
                if self._unsent is not None and now >= self._publish_due:
                    unsent, self._unsent = self._unsent, None
                    unsent.flush()
                if not asked and now < self._due:
                    continue
                self._due = now + interval
                try:
                    self._beat(*current)
                except (
                    psycopg.Error
                ) as exc:  # the database is away: the lease may lapse; keep trying
                    log.warning("heartbeat failed for attempt %s: %s", current[0].attempt_id, exc)
                    self._conn = None

    def _timeout(self, interval: float) -> float:
        """Idle or waiting to publish: look again soon (waking it from watch() would cost a
        thread switch on every step); otherwise sleep until the next beat is due."""
        if self._current is None or self._unsent is not None:
            return PUBLISH_DELAY
        return max(self._due - time.monotonic(), 0.005)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.broken:
            self._conn = connect(autocommit=True)
        return self._conn

    def _beat(self, claim: Claim, ctx: RunContext) -> None:
        conn = self._connection()
        ttl = get_settings().lease_ttl
        if not attempts.heartbeat(
            conn, claim.attempt_id, claim.lease_token, ttl, ctx.progress_value
        ):
            ctx.mark_cancelled()
            if ctx.interrupt is not None:
                ctx.interrupt()
            return
        logs = ctx.take_logs()
        if logs:
            _save_logs(conn, claim, logs)


def _save_logs(conn: psycopg.Connection[Any], claim: Claim, logs: list[tuple[str, str]]) -> None:
    outbox = Outbox()
    with conn.transaction():
        attempts.write_records(conn, claim, Records(logs=logs))
        outbox.add_event(
            record_event(
                conn,
                claim.job_id,
                "log",
                step_key=claim.step_key,
                attempt_id=claim.attempt_id,
                data={"lines": len(logs), "last": logs[-1][1][:200]},
            )
        )
    outbox.flush()


HEARTBEAT = Heartbeat()
