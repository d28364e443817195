"""One log line when a dependency (PostgreSQL, Redis) goes away and one when it is back,
instead of one per failed request or reconnect attempt."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("jobmonitor.outages")


class Outage:
    def __init__(self, what: str) -> None:
        self.what = what
        self.since: float | None = None
        self._lock = threading.Lock()

    def down(self, error: BaseException) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        log.warning("%s is unavailable (%s); answering 503 until it is back", self.what, reason)

    def up(self) -> None:
        with self._lock:
            if self.since is None:
                return
            lasted, self.since = time.monotonic() - self.since, None
        log.warning("%s is back after %.1f s", self.what, lasted)


DATABASE = Outage("PostgreSQL")
REDIS = Outage("Redis")
