"""Read-side latency of the REST API on a large database.

    python bench/api.py [--jobs 1000000] [--requests 200] [--port 8765] [--skip-load]

1. Creates a fresh database `jm_bench_api` (dropped first), migrates it, and generates
   `--jobs` jobs with set-based SQL inside PostgreSQL (bench/api_data.py): all but 1,000
   with 5 steps over 20 workflows, plus 1,000 jobs of a 50-step workflow (about 5 steps per
   job in all), spread over 90 days and every status, with payloads, metadata and errors of
   every selectivity for the search forms. The `job_counts` trigger is off during the load
   and the counters are rebuilt after it (the failure trigger stays on: it builds the
   failure inbox); then VACUUM ANALYZE (what autovacuum would do on a live system).
2. Starts the API alone (`uvicorn backend.api.app:create_app --factory`) in its own process
   and measures each request kind sequentially over HTTP on loopback, after a warm-up:
   p50/p95/max in milliseconds, printed as a table. `search ... *` forms are not indexed.

Uses JOBMONITOR_TEST_DATABASE_URL (a maintenance URL, default postgres@127.0.0.1:5432) and
JOBMONITOR_TEST_REDIS_URL (db 12). `--skip-load` reuses the database of an earlier run.

Measured on the 2-core development machine (PostgreSQL 15, 1,000,000 jobs, 5,045,000 steps;
load 241 s with the earlier COPY loader), 300 sequential requests each, target p95 < 50 ms
(the search, compare and failure figures are in the README):

    request                          p50 ms   p95 ms
    GET /jobs (first page)             4.46     5.31
    GET /jobs?status=                  4.71     5.42
    GET /jobs?skip=100000             13.27    16.38
    GET /jobs?cursor= (100k deep)      4.76     5.57
    GET /jobs/counts                   2.82     3.68
    GET /jobs/{id}                     3.77     4.55
    GET /jobs/{id}/steps (50)          4.33     5.05
    job detail + 50 steps              6.87     9.02
    GET /jobs/{id}/timeline            4.16     5.61
    GET /workflows/{id}/metrics        4.80     5.75
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psycopg

from backend import migrations
from backend.auth.service import Role, bootstrap_token
from backend.jobs.listing import encode_cursor
from backend.workflows.service import register_workflow
from bench import api_data

ADMIN = os.environ.get(
    "JOBMONITOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("JOBMONITOR_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/") + "/12"
DB = "jm_bench_api"
URL = ADMIN.rpartition("/")[0] + f"/{DB}"
WORKFLOWS = 20
BIG_JOBS = 1000
BIG_STEPS = 50
SMALL_STEPS = 5
DEEP = 100_000


# --- loading ---------------------------------------------------------------------------------


def _chain(name: str, steps: int) -> dict[str, Any]:
    keys = [f"s{i:02d}" for i in range(steps)]
    return {
        "name": name,
        "steps": [
            {"key": k, "action": "bench.noop", "depends_on": [keys[i - 1]] if i else []}
            for i, k in enumerate(keys)
        ],
    }


def create_database() -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    migrations.upgrade(URL)


def setup_workspace(conn: psycopg.Connection[Any]) -> tuple[str, uuid.UUID, list[dict[str, Any]]]:
    """An admin token and the workflows: (token, workspace id, [{id, version_id, steps}])."""
    with conn.transaction():
        token, row, _ = bootstrap_token(conn, "bench", Role.ADMIN, "bench")
        workflows = []
        for i in range(WORKFLOWS + 1):
            steps = BIG_STEPS if i == WORKFLOWS else SMALL_STEPS
            done = register_workflow(
                conn,
                row.workspace_id,
                _chain(f"wf-{i:02d}" if i < WORKFLOWS else "wide", steps),
                False,
            )
            workflows.append(
                {"id": done.workflow_id, "version_id": done.version_id, "steps": steps}
            )
    return token, row.workspace_id, workflows


def load(n: int) -> tuple[str, uuid.UUID, list[dict[str, Any]]]:
    create_database()
    with psycopg.connect(URL, row_factory=psycopg.rows.dict_row) as conn:
        token, workspace, workflows = setup_workspace(conn)
        conn.execute("ALTER TABLE jobs DISABLE TRIGGER jobs_counts")
        t0 = time.monotonic()
        api_data.load_rows(conn, workspace, workflows, n, BIG_JOBS)
        steps = conn.execute("SELECT count(*) AS n FROM job_steps").fetchone()
        print(
            f"  {n:,} jobs and {steps['n'] if steps else 0:,} steps (set-based SQL)"
            f" in {time.monotonic() - t0:.0f} s",
            flush=True,
        )
        conn.execute("ALTER TABLE jobs ENABLE TRIGGER jobs_counts")
        conn.execute(
            """
            INSERT INTO job_counts (workspace_id, workflow_id, status, n)
            SELECT workspace_id, workflow_id, status, count(*) FROM jobs GROUP BY 1, 2, 3
            """
        )
        conn.execute(
            "UPDATE workflows w SET execution_count = (SELECT count(*) FROM jobs j WHERE j.workflow_id = w.id)"
        )
        conn.commit()
    with psycopg.connect(URL, autocommit=True) as conn:
        t2 = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        print(f"  vacuum analyze: {time.monotonic() - t2:.0f} s", flush=True)
    return token, workspace, workflows


def reuse() -> tuple[str, uuid.UUID, list[dict[str, Any]]]:
    with psycopg.connect(URL, row_factory=psycopg.rows.dict_row, autocommit=True) as conn:
        conn.execute("DELETE FROM api_tokens WHERE name = 'bench'")
        ws = conn.execute("SELECT id FROM workspaces WHERE slug = 'bench'").fetchone()
        assert ws is not None, "no earlier load: run without --skip-load"
        from backend.auth.service import create_token

        token, _ = create_token(conn, ws["id"], "bench", Role.ADMIN)
        rows = conn.execute(
            "SELECT id, name FROM workflows WHERE workspace_id = %s ORDER BY name", (ws["id"],)
        ).fetchall()
    workflows = [
        {"id": r["id"], "steps": BIG_STEPS if r["name"] == "wide" else SMALL_STEPS} for r in rows
    ]
    return token, ws["id"], sorted(workflows, key=lambda w: w["steps"])


# --- measuring -------------------------------------------------------------------------------


def start_api(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JOBMONITOR_DATABASE_URL": URL,
        "JOBMONITOR_REDIS_URL": REDIS,
        "JOBMONITOR_STEP_MODULES": "",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the API did not start")


def deep_cursor(workspace: uuid.UUID) -> str:
    with psycopg.connect(URL, row_factory=psycopg.rows.dict_row) as conn:
        row = conn.execute(
            "SELECT created_at, id FROM jobs WHERE workspace_id = %s ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            (workspace, DEEP - 1),
        ).fetchone()
    assert row is not None
    return encode_cursor(row["created_at"], row["id"], True)


def wide_jobs(workspace: uuid.UUID, wide: uuid.UUID, k: int = 200) -> list[str]:
    with psycopg.connect(URL, row_factory=psycopg.rows.dict_row) as conn:
        rows = conn.execute(
            "SELECT id FROM jobs WHERE workspace_id = %s AND workflow_id = %s ORDER BY random() LIMIT %s",
            (workspace, wide, k),
        ).fetchall()
    return [str(r["id"]) for r in rows]


def measure(
    client: httpx.Client, requests: int, kinds: dict[str, Callable[[int], list[str]]]
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    for name, paths_of in kinds.items():
        for i in range(20):  # warm-up: pool, plans, caches
            for path in paths_of(i):
                client.get(path).raise_for_status()
        timings = []
        for i in range(requests):
            t0 = time.perf_counter()
            for path in paths_of(i):
                response = client.get(path)
                response.raise_for_status()
            timings.append((time.perf_counter() - t0) * 1000)
        results[name] = timings
        print(
            f"  {name:<36} p50 {_pct(timings, 50):7.2f} ms   p95 {_pct(timings, 95):7.2f} ms",
            flush=True,
        )
    return results


def _pct(values: list[float], p: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[p - 1]
        if len(values) > 1
        else values[0]
    )


# the search forms: (name, search, indexed)
SEARCHES = (
    ("input.mode=fast", "input.mode=fast", True),
    ("input.records=N (1 in 1000)", "input.records={r}", True),
    ("input.options.level=deep", "input.options.level=deep", True),
    ("metadata.operator=cli", "metadata.operator=cli status=failed", True),
    ("output.rows exists", "output.rows exists", True),
    ("error~timeout", "error~timeout", True),
    ("error_type=KeyError", "error_type=KeyError", True),
    ("failed_step=s03", "failed_step=s03", True),
    ("cost>0.499", "cost>0.499", True),
    ("duration>119s", "duration>119s", True),
    ("input.records>995 (range)", "input.records>995", False),
    ("input.mode!=fast", "input.mode!=fast", False),
)


def search_kinds() -> dict[str, Callable[[int], list[str]]]:
    """`GET /jobs?search=` of each form (a different value of input.records each time)."""
    return {
        f"search {name}{'' if indexed else ' *'}": (
            lambda i, q=q: [f"/jobs?limit=50&search={quote(q.format(r=i % 1000))}"]
        )
        for name, q, indexed in SEARCHES
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--skip-load", action="store_true", help="reuse the database of an earlier run"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--only", help="measure only the request kinds whose name contains this text"
    )
    args = parser.parse_args()
    if args.requests < 2:
        parser.error("--requests must be at least 2")
    t0 = time.monotonic()
    print(
        f"loading {args.jobs:,} jobs into {DB}" if not args.skip_load else f"reusing {DB}",
        flush=True,
    )
    token, workspace, workflows = reuse() if args.skip_load else load(args.jobs)
    print(f"  ready in {time.monotonic() - t0:.0f} s", flush=True)
    cursor = deep_cursor(workspace) if args.jobs > DEEP or args.skip_load else None
    wide = wide_jobs(workspace, workflows[-1]["id"])
    small = [str(w["id"]) for w in workflows if w["steps"] == SMALL_STEPS]
    statuses = ["failed", "running", "completed", "cancelled"]
    kinds: dict[str, Callable[[int], list[str]]] = {
        "GET /jobs (first page)": lambda i: ["/jobs?limit=50"],
        "GET /jobs?status=": lambda i: [f"/jobs?status={statuses[i % 4]}&limit=50"],
        "GET /jobs?skip=100000": lambda i: [f"/jobs?skip={DEEP}&limit=50"],
        "GET /jobs?cursor= (100k deep)": lambda i: (
            [f"/jobs?cursor={cursor}&limit=50"] if cursor else ["/jobs?limit=50"]
        ),
        "GET /jobs/counts": lambda i: ["/jobs/counts"],
        "GET /jobs/{id}": lambda i: [f"/jobs/{wide[i % len(wide)]}"],
        "GET /jobs/{id}/steps (50)": lambda i: [f"/jobs/{wide[i % len(wide)]}/steps"],
        "job detail + 50 steps": lambda i: [
            f"/jobs/{wide[i % len(wide)]}",
            f"/jobs/{wide[i % len(wide)]}/steps",
        ],
        "GET /jobs/{id}/timeline": lambda i: [f"/jobs/{wide[i % len(wide)]}/timeline"],
        "GET /workflows/{id}/metrics": lambda i: [f"/workflows/{small[i % len(small)]}/metrics"],
        **search_kinds(),
        "GET /jobs/{a}/compare/{b} (50)": lambda i: [
            f"/jobs/{wide[i % len(wide)]}/compare/{wide[(i + 1) % len(wide)]}"
        ],
        "GET /failures": lambda i: ["/failures"],
        "GET /failures/counts": lambda i: ["/failures/counts"],
    }
    if args.only:
        kinds = {name: paths for name, paths in kinds.items() if args.only in name}
    api = start_api(args.port)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(
            base_url=f"http://127.0.0.1:{args.port}/api/v1", headers=headers, timeout=30
        ) as client:
            print(
                f"measuring {args.requests} requests of each kind (sequential, HTTP on loopback)",
                flush=True,
            )
            results = measure(client, args.requests, kinds)
    finally:
        api.terminate()
        api.wait(timeout=10)
    print(f"\n{'request':<38} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, timings in results.items():
        print(
            f"{name:<38} {len(timings):>5} {_pct(timings, 50):>8.2f} {_pct(timings, 95):>8.2f} {max(timings):>8.2f}"
        )
    if args.json:
        summary = {
            name: {"n": len(t), "p50_ms": _pct(t, 50), "p95_ms": _pct(t, 95), "max_ms": max(t)}
            for name, t in results.items()
        }
        args.json.write_text(json.dumps({"jobs": args.jobs, "results": summary}, indent=2))


if __name__ == "__main__":
    main()
