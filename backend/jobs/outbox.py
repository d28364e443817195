"""What a transaction wants done after it commits: attempts to enqueue, events to publish, and
after-snapshots of the jobs it ended. Collected while the transaction runs; once it has
committed, `flush` saves the snapshots over the caller's connection and sends the rest in
one Redis pipeline."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from redis import Redis
from redis.exceptions import RedisError

from backend import events, outages
from backend.jobs import retry_timer, snapshots
from backend.queue import Dispatch, enqueue, redis_client, step_queue

log = logging.getLogger(__name__)


@dataclass
class Outbox:
    dispatches: list[Dispatch] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    ended_jobs: list[uuid.UUID] = field(default_factory=list)  # for their after-snapshots
    retries: list[tuple[uuid.UUID, uuid.UUID, float]] = field(default_factory=list)
    # (step, job, seconds): steps waiting for a retry, for this process's retry timer

    def add_event(self, event: dict[str, Any] | None) -> None:
        if event is not None:
            self.events.append(event)

    def absorb(self, earlier: Outbox | None) -> None:
        """Take over what an earlier transaction left unsent, ahead of our own items."""
        if earlier is None:
            return
        self.dispatches[:0] = earlier.dispatches
        self.events[:0] = earlier.events
        self.ended_jobs[:0] = earlier.ended_jobs
        self.retries[:0] = earlier.retries

    def flush(self, conn: psycopg.Connection[Any] | None, redis: Redis | None = None) -> None:
        """After the commit: save the after-snapshots of the jobs that ended over `conn` (the
        caller's connection, not inside a transaction; None when the transaction could end no
        job) in a transaction of their own, then enqueue and publish: a client that hears a
        job ended finds its snapshot. A Redis failure here loses nothing:
        the reaper re-enqueues queued attempts that are missing from Redis, and subscribers
        read gaps from Postgres."""
        if self.ended_jobs:
            if conn is None:
                raise RuntimeError("jobs ended: their after-snapshots need the caller's connection")
            with conn.transaction():
                for job_id in self.ended_jobs:
                    snapshots.save_after(conn, job_id)
            self.ended_jobs.clear()
        if self.retries:
            timer = retry_timer.process_timer()
            for step_id, job_id, delay in self.retries:
                timer.schedule(step_id, job_id, delay)
            self.retries.clear()
        if not self.dispatches and not self.events:
            return
        connection = redis or redis_client()
        try:
            pipe = connection.pipeline(transaction=False)
            enqueue(pipe, step_queue(connection), self.dispatches)
            events.publish(pipe, self.events)
            pipe.execute()
        except RedisError as exc:
            if not outages.noted(exc):
                log.warning("outbox flush failed (the reaper will recover): %s", exc)
        else:
            outages.REDIS.recovered()
        self.dispatches.clear()
        self.events.clear()
