"""Starting rq workers for the step queue: `jobmonitor worker` runs N of them, each in its own
process, forking `Worker` by default (a work horse per step) or `SimpleWorker` (in process)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
import uuid
from types import FrameType

from rq.worker.base import BaseWorker

from backend import outages
from backend.db import close_worker_connection
from backend.queue import redis_client, step_queue
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


def run_one(simple: bool = False, burst: bool = False) -> None:
    """One worker in this process. SIGTERM asks it to finish the current step and stop.
    Nothing else ends it: should rq's loop end for any other reason (an error it could not
    ride out), a new worker takes over after a backoff."""
    load_step_modules(get_settings().step_modules)
    for path in outcome_file.remove_leftovers():
        log.warning("removed %s, left by a worker that is gone", path)
    backoff = outages.Backoff()
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


def run_many(count: int, simple: bool = False) -> None:
    """`count` workers in child processes; SIGTERM/SIGINT are passed on (warm shutdown)."""
    load_step_modules(get_settings().step_modules)
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=run_one, args=(simple,), name=f"worker-{i}") for i in range(count)
    ]
    for child in children:
        child.start()

    def forward(signum: int, frame: FrameType | None) -> None:
        for child in children:
            if child.pid and child.is_alive():
                os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.join()
