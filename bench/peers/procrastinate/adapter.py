"""procrastinate 3.10 (a job row per step, with its status events, in PostgreSQL):
`adapter.py worker` runs one worker process (concurrency 1, LISTEN/NOTIFY);
`adapter.py setup` applies its schema; `adapter.py session` drives the workloads."""

from __future__ import annotations

import os
import sys
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import workload
from tasks import FANIN_TABLE, app, step


class ProcrastinateAdapter:
    def __init__(self) -> None:
        app.open()
        self.conn = psycopg.connect(
            os.environ["BENCH_DATABASE_URL"], autocommit=True, application_name=workload.POLL_APP
        )
        self.shapes: dict[str, str] = {}

    def submit(self, shape: str) -> str:
        run_id = uuid.uuid4().hex[:12]
        self.shapes[run_id] = shape
        step.defer(run_id=run_id, shape=shape, index=0)
        return run_id

    def completed(self, run_ids: list[str]) -> dict[str, int]:
        """Runs whose last step's job succeeded, with their succeeded jobs."""
        rows = self.conn.execute(
            "SELECT args->>'run_id', (args->>'index')::int FROM procrastinate_jobs"
            " WHERE args->>'run_id' = ANY(%s) AND status = 'succeeded'",
            (run_ids,),
        ).fetchall()
        succeeded = Counter(run_id for run_id, _ in rows)
        last_done = {
            run_id for run_id, index in rows if index == workload.SHAPES[self.shapes[run_id]] - 1
        }
        return {run_id: succeeded[run_id] for run_id in last_done}


def setup() -> None:
    with app.open():
        app.schema_manager.apply_schema()
    with psycopg.connect(os.environ["BENCH_DATABASE_URL"], autocommit=True) as conn:
        conn.execute(FANIN_TABLE)


def worker(args: list[str]) -> None:
    app.run_worker(concurrency=1)


if __name__ == "__main__":
    workload.main(ProcrastinateAdapter, worker, setup)
