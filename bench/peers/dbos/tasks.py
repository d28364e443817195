"""DBOS 3.4: a workflow per run, a DBOS step per no-op step (each checkpointed in PostgreSQL).
fan8 enqueues its 8 middle steps as child workflows on the queue (so both processes run them)
and waits for them. The queue (registered in setup) polls every 0.1 s (default 1 s) with no per-process limit."""

from __future__ import annotations

import os

from dbos import DBOS, DBOSConfig

QUEUE = "bench"
VERSION = "bench"


def register_queue() -> None:
    """DBOS 3.4 keeps queues in its database: registered once, found by every executor."""
    DBOS.register_queue(
        QUEUE, polling_interval_sec=0.1, worker_concurrency=None, on_conflict="always_update"
    )


def config(executor_id: str) -> DBOSConfig:
    return {
        "name": "bench",
        "system_database_url": os.environ["BENCH_DATABASE_URL"],
        "executor_id": executor_id,
        "application_version": VERSION,
        "log_level": "WARNING",
    }


@DBOS.step()
def noop(index: int) -> None:
    return None


@DBOS.workflow()
def chain(steps: int) -> None:
    for i in range(steps):
        noop(i)


@DBOS.workflow()
def leaf(index: int) -> None:
    noop(index)


@DBOS.workflow()
def fan(width: int) -> None:
    noop(0)
    queue = DBOS.retrieve_queue(QUEUE)
    assert queue is not None
    handles = [queue.enqueue(leaf, i) for i in range(1, width + 1)]
    for handle in handles:
        handle.get_result()
    noop(width + 1)
