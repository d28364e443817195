"""Celery 5.7 (no durable record: task results in Redis): `adapter.py worker` runs one prefork
worker with concurrency 2 (Celery's default pool); `adapter.py session` drives the workloads."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import workload
from celery import chain, chord
from tasks import app, noop


class CeleryAdapter:
    def __init__(self) -> None:
        self.backend = app.backend
        self.shapes: dict[str, str] = {}

    def submit(self, shape: str) -> str:
        run_id = uuid.uuid4().hex[:12]
        self.shapes[run_id] = shape
        sigs = [noop.si().set(task_id=t) for t in workload.step_ids(run_id, shape)]
        if shape == "fan8":  # s0, then a chord of the middle steps into the last one
            chain(sigs[0], chord(sigs[1:-1], sigs[-1])).apply_async()
        else:
            chain(*sigs).apply_async()
        return run_id

    def completed(self, run_ids: list[str]) -> dict[str, int]:
        """Runs whose last task has a SUCCESS result, with their successful tasks."""
        ids = [t for r in run_ids for t in workload.step_ids(r, self.shapes[r])]
        keys = [self.backend.get_key_for_task(t) for t in ids]
        metas = self.backend.client.mget(keys)
        success = {
            t for t, m in zip(ids, metas, strict=True) if m and json.loads(m)["status"] == "SUCCESS"
        }
        done = {}
        for run_id in run_ids:
            steps = workload.step_ids(run_id, self.shapes[run_id])
            if steps[-1] in success:
                done[run_id] = sum(t in success for t in steps)
        return done


def worker(args: list[str]) -> None:
    app.worker_main(["worker", "--pool", "prefork", "--concurrency", "2", "--loglevel", "WARNING"])


if __name__ == "__main__":
    workload.main(CeleryAdapter, worker)
