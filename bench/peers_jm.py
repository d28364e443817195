"""Jobmonitor's adapter for bench/peers.py: the only code there that knows Jobmonitor's
interfaces. Like every peer's adapter it runs in a process of its own, with JOBMONITOR_* set:

    python bench/peers_jm.py setup | session

`setup` migrates the system's fresh database and registers the workloads' workflows;
`session` speaks bench/peers/workload.py's protocol with bench/peers.py. Workers are
`python -m cli.main worker [--simple]`."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(PEERS))

import workload  # type: ignore[import-not-found]  # noqa: E402

JM_SHAPES: dict[str, list[list[int]]] = {  # shape -> each step's dependencies
    "chain10": [[i - 1] if i else [] for i in range(10)],
    "fan8": [[], *[[0]] * 8, list(range(1, 9))],
    "chain3": [[i - 1] if i else [] for i in range(3)],
}


def jm_setup() -> None:
    """Migrate the fresh database, add a workspace and the three workflows."""
    from backend import migrations
    from backend.db import connect
    from backend.steps import load_step_modules
    from backend.workflows.service import register_workflow

    migrations.upgrade(os.environ["JOBMONITOR_DATABASE_URL"])
    load_step_modules(["bench.steps"])
    with connect() as conn, conn.transaction():
        row = conn.execute(
            "INSERT INTO workspaces (id, slug, name) VALUES (gen_random_uuid(), 'bench', 'Bench')"
            " RETURNING id"
        ).fetchone()
        assert row is not None
        for shape, deps in JM_SHAPES.items():
            steps = [
                {"key": f"s{i}", "action": "bench.noop", "depends_on": [f"s{d}" for d in dep]}
                for i, dep in enumerate(deps)
            ]
            register_workflow(conn, row["id"], {"name": shape, "steps": steps})


class JobmonitorAdapter:
    def __init__(self) -> None:
        import psycopg
        from psycopg.rows import dict_row

        from backend.db import connect

        self.conn = connect(autocommit=True)  # for create_job
        self.poll = psycopg.connect(  # for completion checks, left out of the PostgreSQL CPU
            os.environ["JOBMONITOR_DATABASE_URL"],
            autocommit=True,
            row_factory=dict_row,
            application_name=workload.POLL_APP,
        )
        row = self.conn.execute("SELECT id FROM workspaces WHERE slug = 'bench'").fetchone()
        assert row is not None
        self.workspace = row["id"]

    def submit(self, shape: str) -> str:
        """One job of the workflow, created as the API creates it (outbox flushed after commit)."""
        from backend.jobs.outbox import Outbox
        from backend.jobs.service import create_job

        outbox = Outbox()
        with self.conn.transaction():
            created = create_job(self.conn, self.workspace, shape, {}, outbox)
        outbox.flush(self.conn)
        return str(created.job_id)

    def completed(self, run_ids: list[str]) -> dict[str, int]:
        """Completed jobs among run_ids, with their completed steps (Jobmonitor's record)."""
        rows = self.poll.execute(
            """
            SELECT j.id::text AS id, count(*) FILTER (WHERE s.status = 'completed') AS steps
            FROM jobs j JOIN job_steps s ON s.job_id = j.id
            WHERE j.id = ANY(%s::uuid[]) AND j.status = 'completed' GROUP BY j.id
            """,
            (run_ids,),
        ).fetchall()
        return {r["id"]: r["steps"] for r in rows}

    def extra(self, run_ids: list[str]) -> dict[str, Any]:
        """Parent step's completion to child attempt's start, database clock."""
        rows = self.poll.execute(
            """
            SELECT EXTRACT(EPOCH FROM a.started_at - p.completed_at) * 1000 AS ms
            FROM job_steps c
            JOIN job_steps p ON p.job_id = c.job_id AND p.step_index = c.step_index - 1
            JOIN step_attempts a ON a.step_id = c.id
            WHERE c.job_id = ANY(%s::uuid[])
            """,
            (run_ids,),
        ).fetchall()
        values = [float(r["ms"]) for r in rows]
        return {"parent_child_p50_ms": statistics.median(values) if values else None}


def drive(command: str) -> None:
    if command == "setup":
        jm_setup()
    else:
        workload.serve(JobmonitorAdapter)


if __name__ == "__main__":
    drive(sys.argv[1] if len(sys.argv) > 1 else "session")
