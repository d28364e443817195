"""Starting rq workers for the step queue: `jobmonitor worker` runs N of them, each in its own
process, forking `Worker` by default (a work horse per step) or `SimpleWorker` (in process)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
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
from workers import outcome_file, watchdog
from workers.worker import ResilientQueue, SimpleWorker, Worker

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


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
    if simple:
        watchdog.start_sidecar()
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


def _run_child(simple: bool) -> None:
    """A worker of run_many's: it goes when its parent goes (killed too), never an orphan."""
    _die_with_parent()
    run_one(simple, announce=False)  # run_many announced it


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: an orphan finishes its step and idles
        return
    if os.getppid() == 1:  # the parent died before prctl
        os._exit(1)


def run_many(count: int, simple: bool = False) -> None:
    """`count` workers in child processes, each replaced when it exits (a SimpleWorker its
    watchdog killed for a step past its hard timeout, a crash); SIGTERM/SIGINT are passed on
    (warm shutdown) and end it once they have stopped."""
    key = _announce(count)
    load_step_modules(get_settings().step_modules)
    context = multiprocessing.get_context("fork")
    stopping = threading.Event()

    def start(i: int) -> tuple[multiprocessing.process.BaseProcess, float]:
        child = context.Process(target=_run_child, args=(simple,), name=f"worker-{i}")
        child.start()
        return child, time.monotonic()

    children = [start(i) for i in range(count)]
    _clear_when_registered(key, {c.pid for c, _ in children if c.pid})

    def forward(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        for child, _ in children:
            if child.pid and child.is_alive():
                os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while not stopping.wait(0.2):
        for i, (child, started) in enumerate(children):
            if child.is_alive() or stopping.is_set():
                continue
            child.join()
            log.warning(
                "worker-%d (pid %s) exited (%s); starting another", i, child.pid, child.exitcode
            )
            if time.monotonic() - started < 5:  # no busy loop if it cannot start
                time.sleep(1.0)
            children[i] = start(i)
    for child, _ in children:
        child.join()
    _forget(key)
