"""DBOS 3.4 (a workflow status row per workflow and a checkpoint row per step in PostgreSQL):
`adapter.py worker` launches DBOS in one process (a unique executor id) serving the queue;
`adapter.py setup` runs its migrations; `adapter.py session` enqueues with DBOSClient."""

from __future__ import annotations

import os
import signal
import sys
import threading
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import tasks
import workload
from dbos import DBOS, DBOSClient

URL = os.environ["BENCH_DATABASE_URL"]
WORKFLOWS = {"chain10": ("chain", 10), "fan8": ("fan", workload.FAN_WIDTH), "chain3": ("chain", 3)}


class DbosAdapter:
    def __init__(self) -> None:
        self.client = DBOSClient(system_database_url=URL)
        self.conn = psycopg.connect(URL, autocommit=True, application_name=workload.POLL_APP)

    def submit(self, shape: str) -> str:
        name, arg = WORKFLOWS[shape]
        run_id = uuid.uuid4().hex
        options = {
            "workflow_name": name,
            "queue_name": tasks.QUEUE,
            "workflow_id": run_id,
            "app_version": tasks.VERSION,
        }
        self.client.enqueue(options, arg)  # type: ignore[arg-type]
        return run_id

    def completed(self, run_ids: list[str]) -> dict[str, int]:
        """Workflows DBOS records as SUCCESS, with the checkpointed no-op steps of the
        workflow and its child workflows."""
        rows = self.conn.execute(
            """
            SELECT w.workflow_uuid, count(o.function_id)
            FROM dbos.workflow_status w
            JOIN dbos.workflow_status c
              ON c.workflow_uuid = w.workflow_uuid OR c.parent_workflow_id = w.workflow_uuid
            LEFT JOIN dbos.operation_outputs o ON o.workflow_uuid = c.workflow_uuid
              AND o.function_name = 'noop' AND o.error IS NULL
            WHERE w.workflow_uuid = ANY(%s) AND w.status = 'SUCCESS'
            GROUP BY 1
            """,
            (run_ids,),
        ).fetchall()
        return dict(rows)


def setup() -> None:
    DBOS(config=tasks.config("setup"))
    DBOS.launch()
    tasks.register_queue()
    DBOS.destroy()


def worker(args: list[str]) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    DBOS(config=tasks.config(f"bench-{os.getpid()}"))
    DBOS.launch()
    stop.wait()
    DBOS.destroy(workflow_completion_timeout_sec=5)


if __name__ == "__main__":
    workload.main(DbosAdapter, worker, setup)
