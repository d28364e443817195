"""rq as transport. Postgres holds the record; a message here only says "attempt X may run".
The rq job id is the attempt id, the payload is JSON, and rq keeps no result."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis
from redis.client import Pipeline
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job as RqJob
from rq.job import JobStatus as RqStatus
from rq.serializers import JSONSerializer

from backend.redis_url import redis_from_url
from backend.settings import get_settings

TASK = "workers.tasks.run_attempt"
NO_TIMEOUT_BACKSTOP = 24 * 3600  # rq kills a work horse after this when a step has no timeout
TIMEOUT_GRACE = 30  # our own timer stops the step; rq's is only the backstop
RESULT_TTL = (
    500  # rq's default: with 0, rq deletes each job on success, which costs more than keeping it
)

_redis: Redis | None = None
_redis_pid: int | None = None


def redis_client() -> Redis:
    """The process's Redis connection (recreated after a fork)."""
    global _redis, _redis_pid
    if _redis is None or _redis_pid != os.getpid():
        _redis = redis_from_url(
            get_settings().require_redis_url(), socket_connect_timeout=3, health_check_interval=30
        )
        _redis_pid = os.getpid()
    return _redis


def reset_redis() -> None:
    global _redis, _redis_pid
    _redis, _redis_pid = None, None
    _queues.clear()


_queues: dict[tuple[int, str], Queue] = {}


def step_queue(connection: Redis | None = None) -> Queue:
    """The step queue on `connection` (default: the process's), built once per connection."""
    redis = connection or redis_client()
    key = (id(redis), get_settings().queue)
    queue = _queues.get(key)
    if queue is None or queue.connection is not redis:
        queue = _queues[key] = Queue(key[1], connection=redis, serializer=JSONSerializer)
    return queue


@dataclass(frozen=True)
class AttemptRef:
    """What a queue message carries: the attempt (also the rq job id), its step and job, and
    whether its job was still pending when it was queued (only then may its claim start the
    job; a claim in a running job skips that statement)."""

    attempt_id: uuid.UUID
    step_id: uuid.UUID
    job_id: uuid.UUID
    starts_job: bool = True

    def args(self) -> list[str | bool]:
        return [str(self.attempt_id), str(self.step_id), str(self.job_id), self.starts_job]


@dataclass(frozen=True)
class Dispatch:
    """An attempt to put on the queue once the transaction that created it has committed."""

    ref: AttemptRef
    timeout_seconds: float | None = None


def enqueue(pipe: Pipeline, queue: Queue, dispatches: Iterable[Dispatch]) -> None:
    """Add rq jobs for the attempts to `pipe` (the caller executes it)."""
    datas = [
        Queue.prepare_data(
            TASK,
            args=d.ref.args(),
            job_id=str(d.ref.attempt_id),
            timeout=_rq_timeout(d.timeout_seconds),
            result_ttl=RESULT_TTL,
            failure_ttl=24 * 3600,
            description=f"attempt {d.ref.attempt_id}",
        )
        for d in dispatches
    ]
    if datas:
        queue.enqueue_many(datas, pipeline=pipe)


def _rq_timeout(step_timeout: float | None) -> int:
    if step_timeout is None:
        return NO_TIMEOUT_BACKSTOP
    return int(step_timeout) + TIMEOUT_GRACE


def is_waiting(queue: Queue, attempt_id: uuid.UUID) -> bool:
    """Is the attempt's message still on its way to a worker (queued, or just taken)?"""
    try:
        job = RqJob.fetch(str(attempt_id), connection=queue.connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in (RqStatus.QUEUED, RqStatus.STARTED, RqStatus.SCHEDULED)


# --- workers that are starting: announced before they register with rq, so that `doctor` can
# tell a worker that is on its way (warn) from one that is missing (fail) without timing -------

STARTING_PREFIX = "jobmonitor:workers-starting"
STARTING_TTL = 120  # a start that has not registered by then is reported missing


def starting_key(ident: str) -> str:
    return f"{STARTING_PREFIX}:{get_settings().queue}:{ident}"


def announce_start(redis: Redis, ident: str, count: int) -> str:
    """Note that `count` workers of this process are starting; the key to delete once they
    have registered."""
    key = starting_key(ident)
    redis.set(
        key, json.dumps({"ident": ident, "count": count, "since": time.time()}), ex=STARTING_TTL
    )
    return key


def starting_workers(redis: Redis) -> list[dict[str, Any]]:
    """The announced starts on this queue that have not registered yet."""
    found = []
    for key in redis.scan_iter(match=f"{STARTING_PREFIX}:{get_settings().queue}:*", count=100):
        value = cast(bytes | None, redis.get(key))
        if value:
            found.append(json.loads(value))
    return found
