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


class Heartbeat:
    def __init__(self) -> None:
        self._wake = threading.Event()
        self._beating = threading.Lock()  # held during a beat: unwatch() waits for it
        self._current: tuple[Claim, RunContext] | None = None
        self._due = 0.0
        self._pid: int | None = None
        self._conn: psycopg.Connection[Any] | None = None

    def watch(self, claim: Claim, ctx: RunContext) -> None:
        if self._pid != os.getpid():  # first use in this process (or a forked horse)
            self._pid, self._conn = os.getpid(), None
            threading.Thread(target=self._loop, name="heartbeat", daemon=True).start()
        ctx.beat_now = self._wake
        self._due = time.monotonic() + get_settings().heartbeat_every
        self._current = (claim, ctx)

    def unwatch(self) -> None:
        with self._beating:
            self._current = None

    def _loop(self) -> None:
        interval = get_settings().heartbeat_every
        while True:
            asked = self._wake.wait(max(self._due - time.monotonic(), 0.01) if self._current else interval)
            self._wake.clear()
            with self._beating:
                current = self._current
                if current is None or (not asked and time.monotonic() < self._due):
                    continue
                self._due = time.monotonic() + interval
                try:
                    self._beat(*current)
                except psycopg.Error as exc:  # the database is away: the lease may lapse; keep trying
                    log.warning("heartbeat failed for attempt %s: %s", current[0].attempt_id, exc)
                    self._conn = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.broken:
            self._conn = connect(autocommit=True)
        return self._conn

    def _beat(self, claim: Claim, ctx: RunContext) -> None:
        conn = self._connection()
        ttl = get_settings().lease_ttl
        if not attempts.heartbeat(conn, claim.attempt_id, claim.lease_token, ttl, ctx.progress_value):
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
                conn, claim.job_id, "log", step_key=claim.step_key, attempt_id=claim.attempt_id,
                data={"lines": len(logs), "last": logs[-1][1][:200]},
            )
        )  # fmt: skip
    outbox.flush()


HEARTBEAT = Heartbeat()
