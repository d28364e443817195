"""Starting rq workers for the step queue: `jobmonitor worker` runs N of them, each in its own
process, forking `Worker` by default (a work horse per step) or `SimpleWorker` (in process)."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
import uuid
from types import FrameType

from redis.exceptions import RedisError
from rq import Worker as RqWorker
from rq.worker.base import BaseWorker

from backend import outages
from backend.db import close_worker_connection
from backend.queue import STARTING_TTL, announce_start, redis_client, step_queue
from backend.redis_url import redis_from_url
from backend.settings import get_settings
from backend.steps import load_step_modules
from workers import outcome_file
from workers.worker import ResilientQueue, SimpleWorker, Worker

log = logging.getLogger(__name__)


def worker_name() -> str:
    """Unique per process start, readable in the UI's attempt table."""
    return f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"


def build_worker(simple: bool = False) -> BaseWorker:
    cls: type[BaseWorker] = SimpleWorker if simple else Worker
    plain = step_queue(redis_client())
    queue = ResilientQueue(plain.name, connection=plain.connection, serializer=plain.serializer)
    return cls(
        [queue], connection=queue.connection, serializer=queue.serializer, name=worker_name()
    )


def run_one(simple: bool = False, burst: bool = False, announce: bool = True) -> None:
    """One worker in this process. SIGTERM asks it to finish the current step and stop.
    Nothing else ends it: should rq's loop end for any other reason (an error it could not
    ride out), a new worker takes over after a backoff."""
    key = _announce(1) if announce else None
    load_step_modules(get_settings().step_modules)
    for path in outcome_file.remove_leftovers():
        log.warning("removed %s, left by a worker that is gone", path)
    backoff = outages.Backoff()
    if key:
        _clear_when_registered(key, {os.getpid()})
    try:
        while True:
            worker = build_worker(simple)
            try:
                worker.work(burst=burst, logging_level="WARNING", with_scheduler=False)
            except Exception as exc:
                if not outages.noted(exc):
                    log.exception("worker %s stopped on an error; starting again", worker.name)
            if burst or getattr(worker, "stop_asked", False):
                return
            time.sleep(backoff.next())
    finally:
        close_worker_connection()
        if key:
            _forget(key)


def _announce(count: int) -> str:
    """Tell `doctor` that `count` workers of this process are starting (see backend.queue)."""
    ident = get_settings().worker_start_id or f"{socket.gethostname()}.{os.getpid()}"
    return announce_start(redis_client(), ident, count)


def _clear_when_registered(key: str, pids: set[int]) -> None:
    """Delete the start announcement once rq lists a worker of each pid (a thread with its own
    Redis connection, so a work horse forked meanwhile inherits no lock of it)."""
    redis = redis_from_url(get_settings().require_redis_url(), socket_connect_timeout=3)
    host = socket.gethostname()

    def wait() -> None:
        deadline = time.monotonic() + STARTING_TTL
        with contextlib.suppress(RedisError), redis:
            while time.monotonic() < deadline:
                queue = step_queue(redis)
                if pids <= {w.pid for w in RqWorker.all(queue=queue) if w.hostname == host}:
                    redis.delete(key)
                    return
                time.sleep(0.2)

    threading.Thread(target=wait, name="announce-start", daemon=True).start()


def _forget(key: str) -> None:
    with contextlib.suppress(RedisError):
        redis_client().delete(key)


def run_many(count: int, simple: bool = False) -> None:
    """`count` workers in child processes; SIGTERM/SIGINT are passed on (warm shutdown)."""
    key = _announce(count)
    load_step_modules(get_settings().step_modules)
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=run_one, args=(simple, False, False), name=f"worker-{i}")
        for i in range(count)
    ]
    for child in children:
        child.start()
    _clear_when_registered(key, {c.pid for c in children if c.pid})

    def forward(signum: int, frame: FrameType | None) -> None:
        for child in children:
            if child.pid and child.is_alive():
                os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.join()
    _forget(key)
