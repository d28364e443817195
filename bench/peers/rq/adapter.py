"""Raw rq 2.12 (no durable record: job hashes in Redis): `adapter.py worker --simple|--fork`
runs one worker process; `adapter.py session` drives the workloads (see ../workload.py)."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tasks
import workload
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job, JobStatus

REDIS = os.environ["BENCH_REDIS_URL"]


class RqAdapter:
    def __init__(self) -> None:
        self.redis = Redis.from_url(REDIS)
        self.queue = Queue(tasks.QUEUE, connection=self.redis)
        self.shapes: dict[str, str] = {}

    def submit(self, shape: str) -> str:
        run_id = uuid.uuid4().hex[:12]
        self.shapes[run_id] = shape
        if shape == "fan8":
            self.redis.set(f"bench:fanin:{run_id}", workload.FAN_WIDTH)
        self.queue.enqueue(tasks.step, run_id, shape, 0, job_id=f"{run_id}-0")
        return run_id

    def completed(self, run_ids: list[str]) -> dict[str, int]:
        """Runs whose last job rq records as finished, with their finished jobs."""
        ids = [s for r in run_ids for s in workload.step_ids(r, self.shapes[r])]
        finished = {
            j.id
            for j in Job.fetch_many(ids, connection=self.redis)
            if j is not None and j.get_status(refresh=False) == JobStatus.FINISHED
        }
        done = {}
        for run_id in run_ids:
            steps = workload.step_ids(run_id, self.shapes[run_id])
            if steps[-1] in finished:
                done[run_id] = sum(s in finished for s in steps)
        return done


def worker(args: list[str]) -> None:
    redis = Redis.from_url(REDIS)
    cls = SimpleWorker if "--simple" in args else Worker
    cls([Queue(tasks.QUEUE, connection=redis)], connection=redis).work(logging_level="WARNING")


if __name__ == "__main__":
    workload.main(RqAdapter, worker)
