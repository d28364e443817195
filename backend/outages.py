"""Waiting out an outage of PostgreSQL or Redis, for the long-lived processes: workers, the
reaper, the heartbeat and the publisher.

- `dependency_of(exc)`: which server an error says is away ("PostgreSQL", "Redis"), or None
  for any other error (a bug, bad data, a deadlock: those are not waited out here);
- `Backoff`: capped exponential delays with jitter, so that many processes coming back at
  once do not reconnect in step;
- `DATABASE`, `REDIS` (`OUTAGES` by name): per process and dependency, one log line when an outage starts and one when it
  ends, however many threads and retries see it;
- `retry(fn)`: call `fn` until it stops failing because a server is away.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
import redis.exceptions

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_DELAY = 0.1  # seconds
MAX_DELAY = 3.0  # seconds: a server that is back is found within this (plus jitter)
# connection exceptions, too many connections, shutting down / starting up, system errors
_DOWN = ("08", "53300", "57P01", "57P02", "57P03", "58")


def dependency_of(exc: BaseException) -> str | None:
    """The server an error says is unreachable, None when it is no outage."""
    if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
        sqlstate = getattr(exc, "sqlstate", None)
        # no sqlstate: the client lost or could not open its connection; else only the
        # server's own outage codes (not a deadlock, a limit or a cancelled statement)
        return "PostgreSQL" if sqlstate is None or sqlstate.startswith(_DOWN) else None
    if isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        return "Redis"
    return None


class Backoff:
    """Delays FIRST_DELAY * 2^n capped at MAX_DELAY, each between half and all of it."""

    def __init__(self, first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> None:
        self.first, self.cap, self.tries = first, cap, 0

    def next(self) -> float:
        ceiling = min(self.cap, self.first * 2**self.tries)
        self.tries += 1
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.tries = 0


class Outage:
    """One dependency as this process sees it: down since when, logged once each way."""

    def __init__(self, dependency: str) -> None:
        self.dependency = dependency
        self.since: float | None = None
        self.count = 0  # outages seen by this process
        self._lock = threading.Lock()

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since, self.count = time.monotonic(), self.count + 1
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log.warning(
            "%s unavailable (%s); waiting for it, retrying every %g s at most",
            self.dependency,
            reason[:200],
            MAX_DELAY,
        )

    def recovered(self) -> None:
        if self.since is None:  # the common case: no lock
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            log.warning("%s is back after %.1f s", self.dependency, time.monotonic() - since)

    @property
    def down(self) -> bool:
        return self.since is not None


DATABASE = Outage("PostgreSQL")
REDIS = Outage("Redis")
OUTAGES = {o.dependency: o for o in (DATABASE, REDIS)}


def noted(exc: BaseException) -> bool:
    """Note `exc` as an outage of its dependency; False when it is no outage."""
    dependency = dependency_of(exc)
    if dependency is None:
        return False
    OUTAGES[dependency].failed(exc)
    return True


def retry(
    fn: Callable[[], T],
    give_up: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], object] = time.sleep,
) -> T:
    """`fn()`, called again after a backoff for as long as it fails with an outage (or until
    `give_up()`, then the error is raised). Any other error is raised at once."""
    backoff = Backoff()
    failed: set[str] = set()
    while True:
        try:
            result = fn()
        except Exception as exc:
            dependency = dependency_of(exc)
            if dependency is None or give_up():
                raise
            OUTAGES[dependency].failed(exc)
            failed.add(dependency)
            sleep(backoff.next())
            continue
        for dependency in failed:
            OUTAGES[dependency].recovered()
        return result
