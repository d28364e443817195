"""What a transaction wants done after it commits: attempts to enqueue and events to publish.
Collected while the transaction runs, sent in one Redis pipeline once it has committed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from backend import events
from backend.queue import Dispatch, enqueue, redis_client, step_queue

log = logging.getLogger(__name__)


@dataclass
class Outbox:
    dispatches: list[Dispatch] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def add_event(self, event: dict[str, Any] | None) -> None:
        if event is not None:
            self.events.append(event)

    def flush(self, redis: Redis | None = None) -> None:
        """Enqueue and publish. A Redis failure here loses nothing: the reaper re-enqueues
        queued attempts that are missing from Redis, and subscribers read gaps from Postgres."""
        if not self.dispatches and not self.events:
            return
        connection = redis or redis_client()
        try:
            pipe = connection.pipeline(transaction=False)
            enqueue(pipe, step_queue(connection), self.dispatches)
            events.publish(pipe, self.events)
            pipe.execute()
        except RedisError as exc:
            log.warning("outbox flush failed (the reaper will recover): %s", exc)
        self.dispatches.clear()
        self.events.clear()
