"""Where a step's time goes: one in-process SimpleWorker drains jobs of a no-op chain under
cProfile, with every PostgreSQL statement, PostgreSQL round trip and Redis round trip counted.

    python bench/profile_engine.py [--jobs 50] [--steps 10] [--top 25] [--no-profile]

Prints per step: wall ms, worker CPU ms (this process), the worker's PostgreSQL backend CPU ms
(/proc of its backend), statements, PostgreSQL round trips (pipeline syncs + statements outside
a pipeline), Redis round trips (commands or pipelines sent), and cProfile's top functions by
cumulative time. Uses its own database (jm_prof_engine_<pid>) and JOBMONITOR_TEST_REDIS_URL's
db 12 (flushed). cProfile slows the worker about 2x; --no-profile gives the plain figures.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from redis.connection import Connection as RedisConnection

from bench import engine
from bench.processes import proc_stat

COUNTS: Counter[str] = Counter()
SQL: Counter[str] = Counter()  # statements by their first words


def _count_calls() -> None:
    """Wrap psycopg and redis-py to count statements and round trips in this process. A
    PostgreSQL round trip: a statement outside a pipeline, a pipeline's fetch of pending
    results, or its closing sync."""
    from psycopg import Connection, Cursor
    from psycopg._pipeline_base import BasePipeline

    def wrap(owner: Any, name: str, key: str, when: Any = None) -> None:
        original = getattr(owner, name)

        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            COUNTS[key] += 1
            if key == "statements" and args:
                SQL[" ".join(str(args[0]).split())[:90]] += 1
            if when is not None and when(self, *args, **kwargs):
                COUNTS["pg round trips"] += 1
            return original(self, *args, **kwargs)

        setattr(owner, name, counted)

    def outside_pipeline(cur: Any, *args: Any, **kwargs: Any) -> bool:
        conn = cur if isinstance(cur, Connection) else cur.connection
        return bool(conn.pgconn.pipeline_status == psycopg.pq.PipelineStatus.OFF)

    def pending(pipe: Any, *, flush: bool) -> bool:
        return flush and bool(pipe.result_queue)

    wrap(Cursor, "execute", "statements", outside_pipeline)
    wrap(Cursor, "executemany", "statements", outside_pipeline)
    wrap(BasePipeline, "_fetch_gen", "pipeline fetches", pending)
    wrap(BasePipeline, "_exit_gen", "pipeline syncs", lambda pipe: True)
    wrap(RedisConnection, "send_packed_command", "redis round trips")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--fan", type=int, default=0, help="a fan-out 1 -> FAN -> 1 instead")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    engine.DB = f"jm_prof_engine_{os.getpid()}"
    redis = os.environ.get("JOBMONITOR_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    engine.REDIS = redis + "/12"
    engine.setup_env()
    try:
        run(args)
    finally:
        from backend.db import close_worker_connection

        close_worker_connection()
        with psycopg.connect(engine.ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {engine.DB} WITH (FORCE)")


def run(args: argparse.Namespace) -> None:
    from backend.db import worker_connection
    from workers.process import build_worker

    if args.fan:
        args.steps = args.fan + 2
    conn, workspace = engine._engine_setup(args.steps, args.fan)
    for _ in range(args.jobs):
        engine._create(conn, workspace)
    total = args.jobs * args.steps
    worker = build_worker(simple=True)
    backend_pid = worker_connection().info.backend_pid
    _count_calls()
    profile = None if args.no_profile else cProfile.Profile()
    pg0, cpu0, t0 = _cpu(backend_pid), time.process_time(), time.monotonic()
    if profile:
        profile.enable()
    worker.work(burst=True, logging_level="WARNING", with_scheduler=False)
    if profile:
        profile.disable()
    wall, cpu, pg = time.monotonic() - t0, time.process_time() - cpu0, _cpu(backend_pid) - pg0
    done = conn.execute("SELECT count(*) FROM jobs WHERE status = 'completed'").fetchone()
    assert done is not None and done[0] == args.jobs, f"only {done} jobs completed"
    shape = f"a fan-out 1 -> {args.fan} -> 1" if args.fan else "a chain"
    print(f"{args.jobs} jobs x {args.steps} no-op steps ({shape}), one in-process SimpleWorker")
    print(f"  wall ms/step        {wall * 1000 / total:8.2f}")
    print(f"  worker CPU ms/step  {cpu * 1000 / total:8.2f}")
    print(f"  PG backend CPU ms   {pg * 1000 / total:8.2f}")
    for key in ("statements", "pg round trips", "redis round trips"):
        print(f"  {key + '/step':<20}{COUNTS[key] / total:8.2f}")
    print("  statements per step, by text:")
    for text, n in SQL.most_common():
        print(f"    {n / total:6.2f}  {text}")
    if profile:
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


def _cpu(pid: int | None) -> float:
    stat = proc_stat(pid) if pid else None
    return stat[1] if stat else 0.0


if __name__ == "__main__":
    main()
