"""The retry timer: a step's next attempt starts at its due time, `backoff x factor^(n-1)`
after the failure, rather than on the reaper's next pass.

The process that records a failure with a backoff (a worker, or the reaper for a lost
attempt) schedules the retry here once the failure has committed (`Outbox.retries`); a
thread of that process then starts it (`reaper.start_retry`, the reaper's own transaction
for a due retry) on a connection of its own. The database still decides: the retry starts
only if the step is still waiting and its `next_attempt_at` (set from the database clock in
the failure's transaction) has passed, so it never starts early, and a retry whose timer was
lost (the process stopped, the database was away) is caught up by the reaper's pass.
"""

from __future__ import annotations

import heapq
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg

from backend import outages
from backend.db import connect

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Due:
    at: float  # time.monotonic()
    step_id: uuid.UUID = field(compare=False)
    job_id: uuid.UUID = field(compare=False)


class RetryTimer:
    def __init__(self) -> None:
        self._heap: list[Due] = []
        self._changed = threading.Condition()
        self._conn: psycopg.Connection[Any] | None = None
        self._reconnect = False  # set by `forget`: the next start opens a new connection
        threading.Thread(target=self._loop, name="retry-timer", daemon=True).start()

    def schedule(self, step_id: uuid.UUID, job_id: uuid.UUID, delay: float) -> None:
        with self._changed:
            heapq.heappush(self._heap, Due(time.monotonic() + delay, step_id, job_id))
            self._changed.notify()

    def forget(self) -> None:
        """Drop the pending retries and reconnect before the next start (see `reset`)."""
        with self._changed:
            self._heap.clear()
            self._reconnect = True

    def _loop(self) -> None:
        while True:
            with self._changed:
                while not self._heap or self._heap[0].at > time.monotonic():
                    wait = self._heap[0].at - time.monotonic() if self._heap else None
                    self._changed.wait(wait)
                due = heapq.heappop(self._heap)
            self._start(due)

    def _start(self, due: Due) -> None:
        from backend.jobs import reaper  # the reaper's transaction (it imports the outbox)

        try:
            if self._reconnect and self._conn is not None:
                self._conn.close()
            if self._conn is None or self._conn.closed:
                self._reconnect = False
                self._conn = connect(autocommit=True)
            reaper.start_retry(self._conn, due.step_id, due.job_id)
        except Exception as exc:  # the reaper's pass catches it up
            if not outages.noted(exc):
                log.exception("retry of step %s could not start; the reaper will", due.step_id)
            if self._conn is not None:
                self._conn.close()
            self._conn = None


_process: tuple[int, RetryTimer] | None = None


def process_timer() -> RetryTimer:
    """This process's timer, started on first use (again after a fork)."""
    global _process
    if _process is None or _process[0] != os.getpid():
        _process = (os.getpid(), RetryTimer())
    return _process[1]


def reset() -> None:
    """Forget this process's pending retries and its connection: its settings changed (the
    test suite gives each test its own database). A forgotten retry is still caught up by the
    reaper's pass, as one lost with its process is."""
    if _process is not None and _process[0] == os.getpid():
        _process[1].forget()
