"""The durable floor (see tasks.py): raw rq 2.12 plus two statements per step in PostgreSQL.
`adapter.py setup` makes its tables, `adapter.py worker --simple|--fork` runs one worker
process, `adapter.py session` drives the workloads (see ../workload.py)."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import tasks
import workload
from redis import Redis
from rq import Queue, SimpleWorker, Worker

DATABASE = os.environ["BENCH_DATABASE_URL"]
REDIS = os.environ["BENCH_REDIS_URL"]


class FloorAdapter:
    def __init__(self) -> None:
        self.redis = Redis.from_url(REDIS)
        self.queue = Queue(tasks.QUEUE, connection=self.redis)
        self.db = psycopg.connect(DATABASE, autocommit=True, application_name=workload.POLL_APP)
        self.shapes: dict[str, str] = {}

    def submit(self, shape: str) -> str:
        run_id = uuid.uuid4().hex[:12]
        self.shapes[run_id] = shape
        if shape == "fan8":
            self.redis.set(f"bench:fanin:{run_id}", workload.FAN_WIDTH)
        first = f"{run_id}-0"
        self.db.execute(
            "INSERT INTO floor_attempts (id, run_id, status) VALUES (%s, %s, 'queued')",
            (first, run_id),
        )
        self.queue.enqueue(tasks.step, run_id, shape, 0, job_id=first)
        return run_id

    def completed(self, run_ids: list[str]) -> dict[str, int]:
        """Runs whose every step's attempt is completed in PostgreSQL."""
        rows = self.db.execute(
            "SELECT run_id, count(*) FILTER (WHERE status = 'completed'), count(*)"
            " FROM floor_attempts WHERE run_id = ANY(%s) GROUP BY run_id",
            (run_ids,),
        ).fetchall()
        shapes = workload.SHAPES
        return {run: done for run, done, total in rows if done == total == shapes[self.shapes[run]]}


def setup() -> None:
    with psycopg.connect(DATABASE, autocommit=True) as conn:
        conn.execute(tasks.SCHEMA)


def worker(args: list[str]) -> None:
    redis = Redis.from_url(REDIS)
    cls = SimpleWorker if "--simple" in args else Worker
    cls([Queue(tasks.QUEUE, connection=redis)], connection=redis).work(logging_level="WARNING")


if __name__ == "__main__":
    workload.main(FloorAdapter, worker, setup)
