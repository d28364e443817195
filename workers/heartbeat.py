"""One heartbeat thread per worker process, beating for the attempt the process is running:
it extends the lease, saves buffered log lines and progress, publishes the claim's held
events once the step has run a moment (see workers.claimed), and notices cancellation (or a
lost lease) and interrupts the step. Started on first use, not per step; a forked work horse
starts its own (a thread does not survive a fork). Its database connection is opened on the
first beat, so steps shorter than one interval never pay for it."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import psycopg

from backend import outages
from backend.db import connect
from backend.jobs import attempts
from backend.jobs.attempts import Claim, Records
from backend.jobs.outbox import Outbox
from backend.jobs.states import record_event
from backend.settings import get_settings
from workers.claimed import PUBLISH_DELAY, ClaimedAttempt
from workers.context import RunContext

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self) -> None:
        self._wake = threading.Event()
        self._beating = threading.Lock()  # held during a beat: unwatch() waits for it
        self._current: tuple[ClaimedAttempt, RunContext] | None = None
        self._due = 0.0
        self._publish_due = 0.0
        self._conn: psycopg.Connection[Any] | None = None
        threading.Thread(target=self._loop, name="heartbeat", daemon=True).start()

    def watch(self, claimed: ClaimedAttempt, ctx: RunContext) -> None:
        """Beat for this attempt from now on; publish its claim's events if it still runs
        after PUBLISH_DELAY (a faster step sends them with its outcome)."""
        ctx.beat_now = self._wake
        now = time.monotonic()
        self._due, self._publish_due = now + get_settings().heartbeat_every, now + PUBLISH_DELAY
        self._current = (claimed, ctx)

    def unwatch(self) -> None:
        """Stop beating (waits for a beat in progress)."""
        with self._beating:
            self._current = None

    def _loop(self) -> None:
        interval = get_settings().heartbeat_every
        while True:
            asked = self._wake.wait(self._timeout(interval))
            self._wake.clear()
            with self._beating:
                current = self._current
                if current is None:
                    continue
                claimed, ctx = current
                now = time.monotonic()
                if now >= self._publish_due and claimed.holds_claim_events:
                    claimed.publish_claim_events()
                if not asked and now < self._due:
                    continue
                self._due = now + interval
                try:
                    self._beat(claimed.claim, ctx)
                except psycopg.Error as exc:  # the database is away: beat again when it is back
                    if not outages.noted(exc):
                        log.warning(
                            "heartbeat failed for attempt %s: %s", claimed.claim.attempt_id, exc
                        )
                    self._drop_connection()
                else:
                    outages.DATABASE.recovered()

    def _timeout(self, interval: float) -> float:
        """Idle or waiting to publish: look again soon (waking it from watch() would cost a
        thread switch on every step); otherwise sleep until the next beat is due."""
        current = self._current
        if current is None or current[0].holds_claim_events:
            return PUBLISH_DELAY
        return max(self._due - time.monotonic(), 0.005)

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

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
            try:
                _save_logs(conn, claim, logs)
            except psycopg.Error:
                ctx.put_back_logs(logs)  # they go with the next beat, or the outcome
                raise


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
    outbox.flush(None)  # log lines end no job


_process: tuple[int, Heartbeat] | None = None


def process_heartbeat() -> Heartbeat:
    """This process's heartbeat: started on first use, and again in a forked work horse."""
    global _process
    if _process is None or _process[0] != os.getpid():
        _process = (os.getpid(), Heartbeat())
    return _process[1]
