"""Engine throughput against plain rq, and parent-to-child latency.

    python bench/engine.py [--jobs 100] [--steps 10] [--workers 2] [--classes simple,fork] [--repeat 1]

For each worker class it runs, in one process tree on this machine:
  1. plain rq: jobs x steps no-op rq jobs (default rq settings) drained by W workers;
  2. the engine: `jobs` jobs of a `steps`-step chain of no-op steps, drained by W workers;
  3. latency: single chain jobs, one at a time, with idle workers: the time from a parent
     step's completion to its child's start (database clock on both ends).
Throughput counts the processing window on both sides: all work is queued first (rq jobs
enqueued, engine jobs created), then the workers start, and steps/s is the number of steps
over the time from the first start to the last completion (rq's own timestamps; the
database clock for the engine). Worker start-up and creation are outside both windows. Uses its own database (jm_bench_engine) and Redis db 13.

It also prints the workers' CPU time per step (user + system, work horses included; the
cost of starting and stopping idle workers, measured in the same round, subtracted): on a
machine whose speed drifts, the CPU figures scatter less than the wall-clock rates. The
PostgreSQL and Redis servers' CPU is not in them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job
from rq.registry import FinishedJobRegistry

ADMIN = os.environ.get(
    "JOBMONITOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("JOBMONITOR_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/") + "/13"
DB = "jm_bench_engine"


def setup_env() -> str:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    url = ADMIN.rpartition("/")[0] + f"/{DB}"
    os.environ.update(
        JOBMONITOR_DATABASE_URL=url,
        JOBMONITOR_REDIS_URL=REDIS,
        JOBMONITOR_STEP_MODULES="bench.steps",
        JOBMONITOR_QUEUE="bench",
    )
    from backend import migrations

    migrations.upgrade(url)
    return url


def start_workers(count: int, simple: bool, engine: bool) -> list[multiprocessing.Process]:
    ctx = multiprocessing.get_context("fork")
    target = _engine_worker if engine else _rq_worker
    procs = [ctx.Process(target=target, args=(simple,), daemon=False) for _ in range(count)]
    for p in procs:
        p.start()
    redis = Redis.from_url(REDIS)
    deadline = time.monotonic() + 30
    pids = {p.pid for p in procs}
    while not pids <= {w.pid for w in Worker.all(connection=redis)} and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    return procs


def stop_workers(procs: list[multiprocessing.Process]) -> None:
    for p in procs:
        if p.pid:
            os.kill(p.pid, signal.SIGTERM)
    for p in procs:
        p.join(timeout=20)


def _engine_worker(simple: bool) -> None:
    from workers.process import run_one

    run_one(simple=simple)


def _rq_worker(simple: bool) -> None:
    redis = Redis.from_url(REDIS)
    cls = SimpleWorker if simple else Worker
    cls([Queue("plain", connection=redis)], connection=redis).work(logging_level="ERROR")


def children_cpu() -> float:
    """CPU seconds (user + system) of the workers this process has started and joined."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def idle_workers_cpu(workers: int, simple: bool, engine: bool) -> float:
    """What starting and stopping the workers costs with nothing to do."""
    before = children_cpu()
    stop_workers(start_workers(workers, simple, engine))
    return children_cpu() - before


def bench_plain_rq(total: int, workers: int, simple: bool) -> tuple[float, float]:
    """Steps/s from the first job's start to the last job's end (work queued beforehand), and
    the workers' CPU ms per job."""
    redis = Redis.from_url(REDIS)
    redis.flushdb()
    idle = idle_workers_cpu(workers, simple, engine=False)
    queue = Queue("plain", connection=redis)
    datas = [Queue.prepare_data("bench.steps.rq_noop") for _ in range(total)]
    jobs = [job for i in range(0, total, 1000) for job in queue.enqueue_many(datas[i : i + 1000])]
    before = children_cpu()
    procs = start_workers(workers, simple, engine=False)
    registry = FinishedJobRegistry(queue=queue)
    while registry.count < total:
        time.sleep(0.02)
    stop_workers(procs)
    cpu_ms = (children_cpu() - before - idle) * 1000 / total
    fetched = [Job.fetch(j.id, connection=redis) for j in jobs]
    window = max(j.ended_at for j in fetched) - min(j.started_at for j in fetched)  # type: ignore[type-var]
    return total / window.total_seconds(), cpu_ms


def bench_engine(jobs: int, steps: int, workers: int, simple: bool) -> tuple[float, float]:
    """Steps/s from the first attempt's start to the last job's completion (database clock;
    the jobs are created beforehand, as the rq jobs are enqueued beforehand), and the
    workers' CPU ms per step."""
    conn, workspace = _engine_setup(steps)
    idle = idle_workers_cpu(workers, simple, engine=True)
    for _ in range(jobs):
        _create(conn, workspace)
    before = children_cpu()
    procs = start_workers(workers, simple, engine=True)
    while conn.execute("SELECT count(*) FROM jobs WHERE status = 'completed'").fetchone()[0] < jobs:  # type: ignore[index]
        time.sleep(0.02)
    stop_workers(procs)
    cpu_ms = (children_cpu() - before - idle) * 1000 / (jobs * steps)
    row = conn.execute(
        """
        SELECT EXTRACT(EPOCH FROM (SELECT max(completed_at) FROM jobs)
                                - (SELECT min(started_at) FROM step_attempts)),
               (SELECT count(*) FROM jobs WHERE status <> 'completed')
        """
    ).fetchone()
    assert row is not None and row[1] == 0, "some benchmark jobs did not complete"
    return jobs * steps / float(row[0]), cpu_ms


def bench_latency(jobs: int, steps: int, workers: int, simple: bool) -> list[float]:
    conn, workspace = _engine_setup(steps)
    procs = start_workers(workers, simple, engine=True)
    for _ in range(jobs):
        job_id = _create(conn, workspace)
        while (
            conn.execute("SELECT status FROM jobs WHERE id = %s", (job_id,)).fetchone()[0]
            != "completed"
        ):  # type: ignore[index]
            time.sleep(0.005)
    stop_workers(procs)
    rows = conn.execute(
        """
        SELECT EXTRACT(EPOCH FROM a.started_at - p.completed_at) * 1000
        FROM job_steps c
        JOIN job_steps p ON p.job_id = c.job_id AND p.step_index = c.step_index - 1
        JOIN step_attempts a ON a.step_id = c.id
        """
    ).fetchall()
    return [float(r[0]) for r in rows]


def _engine_setup(steps: int, fan: int = 0) -> tuple[psycopg.Connection[Any], Any]:
    """A fresh workspace with the workflow "chain": `steps` no-op steps in a chain, or with
    `fan`, a fan-out s0 -> (s1..s<fan>) -> s<fan+1> (`steps` is then fan + 2)."""
    from backend.db import connect
    from backend.steps import load_step_modules
    from backend.workflows.service import register_workflow

    Redis.from_url(REDIS).flushdb()
    load_step_modules(["bench.steps"])
    conn = psycopg.connect(os.environ["JOBMONITOR_DATABASE_URL"], autocommit=True)
    conn.execute("TRUNCATE jobs, workflows, workspaces CASCADE")
    with connect() as c, c.transaction():
        workspace = c.execute(
            "INSERT INTO workspaces (id, slug, name) VALUES (gen_random_uuid(), 'bench', 'Bench') RETURNING id"
        ).fetchone()["id"]
        chain = [
            {"key": f"s{i}", "action": "bench.noop", "depends_on": [f"s{i - 1}"] if i else []}
            for i in range(steps)
        ]
        if fan:
            chain = [{"key": "s0", "action": "bench.noop", "depends_on": []}]
            chain += [
                {"key": f"s{i}", "action": "bench.noop", "depends_on": ["s0"]}
                for i in range(1, fan + 1)
            ]
            middle = [f"s{i}" for i in range(1, fan + 1)]
            chain.append({"key": f"s{fan + 1}", "action": "bench.noop", "depends_on": middle})
        register_workflow(c, workspace, {"name": "chain", "steps": chain})
    return conn, workspace


def _create(conn: psycopg.Connection[Any], workspace: Any) -> Any:
    from backend.db import connect
    from backend.jobs.outbox import Outbox
    from backend.jobs.service import create_job

    outbox = Outbox()
    with connect() as c:
        with c.transaction():
            created = create_job(c, workspace, "chain", {}, outbox)
        outbox.flush(c)
    return created.job_id


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
        if len(values) > 1
        else values[0]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--classes", default="simple,fork")
    parser.add_argument("--latency-jobs", type=int, default=10)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds per class (the machine's speed drifts: compare medians)",
    )
    args = parser.parse_args()
    setup_env()
    print(f"{args.jobs} jobs x {args.steps} no-op steps, {args.workers} workers per run")
    print(
        f"{'worker class':<14}{'plain rq steps/s':>18}{'engine steps/s':>16}{'ratio':>8}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'rq cpu ms/step':>16}{'engine cpu ms/step':>20}{'cpu ratio':>11}"
    )
    for name in args.classes.split(","):
        simple = name == "simple"
        jobs = args.jobs if simple else max(args.jobs // 3, 10)
        label = "SimpleWorker" if simple else "Worker (fork)"
        ratios, cpu_ratios = [], []
        for _ in range(args.repeat):  # each round measures both sides back to back
            rq_rate, rq_cpu = bench_plain_rq(jobs * args.steps, args.workers, simple)
            engine_rate, engine_cpu = bench_engine(jobs, args.steps, args.workers, simple)
            latencies = bench_latency(args.latency_jobs, args.steps, args.workers, simple)
            ratios.append(engine_rate / rq_rate)
            cpu_ratios.append(rq_cpu / engine_cpu)
            print(
                f"{label:<14}{rq_rate:>18.0f}{engine_rate:>16.0f}{engine_rate / rq_rate:>8.0%}"
                f"{pct(latencies, 50):>9.1f}{pct(latencies, 95):>9.1f}"
                f"{rq_cpu:>16.2f}{engine_cpu:>20.2f}{rq_cpu / engine_cpu:>11.0%}",
                flush=True,
            )
        if args.repeat > 1:
            print(
                f"{label:<14}{'median ratio':>34}{statistics.median(ratios):>8.0%}"
                f"{'median':>54}{statistics.median(cpu_ratios):>11.0%}",
                flush=True,
            )


if __name__ == "__main__":
    main()
