"""The durable floor: raw rq's step (../rq/tasks.py) plus the least a durable engine with
Jobmonitor's guarantees must write per step, in two statements and two commits:

- the claim: a conditional UPDATE of the attempt's row (queued -> running, a fresh lease
  token) and its `started` event, one statement, committed without waiting for the WAL flush
  (as Jobmonitor's claim is);
- the completion: a fenced UPDATE (running -> completed, only under its own lease), its
  `completed` event and the successors' attempt rows, one statement, a durable commit, before
  the successors are enqueued.

No step rows, no job row, no costs, no metrics, no retries, no cancellation, no snapshots:
this is a lower bound on what Jobmonitor's record costs, not an engine."""

from __future__ import annotations

import os
import uuid

import psycopg
from rq import Queue, get_current_job
from workload import fan_in, successors

QUEUE = "bench"
SCHEMA = """
CREATE TABLE floor_attempts (
    id text PRIMARY KEY, run_id text NOT NULL, status text NOT NULL, lease uuid,
    started_at timestamptz, finished_at timestamptz);
CREATE INDEX ON floor_attempts (run_id);
CREATE TABLE floor_events (
    id bigserial PRIMARY KEY, attempt_id text NOT NULL, kind text NOT NULL,
    at timestamptz NOT NULL DEFAULT now());
"""
CLAIM = """
WITH claimed AS (
    UPDATE floor_attempts SET status = 'running', lease = %(lease)s, started_at = now()
    WHERE id = %(id)s AND status = 'queued'
      AND set_config('synchronous_commit', 'off', true) IS NOT NULL
    RETURNING id)
INSERT INTO floor_events (attempt_id, kind) SELECT id, 'started' FROM claimed RETURNING 1
"""
COMPLETE = """
WITH done AS (
    UPDATE floor_attempts SET status = 'completed', finished_at = now()
    WHERE id = %(id)s AND lease = %(lease)s AND status = 'running'
    RETURNING id, run_id),
event AS (INSERT INTO floor_events (attempt_id, kind) SELECT id, 'completed' FROM done),
nexts AS (
    INSERT INTO floor_attempts (id, run_id, status)
    SELECT n, run_id, 'queued' FROM done, unnest(%(nexts)s::text[]) n)
SELECT count(*) AS n FROM done
"""
_conn: psycopg.Connection | None = None


def connection() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["BENCH_DATABASE_URL"], autocommit=True)
    return _conn


def step(run_id: str, shape: str, index: int) -> None:
    job = get_current_job()
    assert job is not None
    conn, lease = connection(), uuid.uuid4()
    if conn.execute(CLAIM, {"id": job.id, "lease": lease}).fetchone() is None:
        return  # another delivery holds it, or it is done
    nexts = successors(shape, index)  # the step itself: a no-op
    last = fan_in(shape, index)
    if last is not None and job.connection.decr(f"bench:fanin:{run_id}") == 0:
        nexts = [last]
    ids = [f"{run_id}-{n}" for n in nexts]
    done = conn.execute(COMPLETE, {"id": job.id, "lease": lease, "nexts": ids}).fetchone()
    if not done or not done[0]:
        return  # lost its lease: nothing of it counts
    queue = Queue(QUEUE, connection=job.connection)
    for nxt, job_id in zip(nexts, ids, strict=True):
        queue.enqueue(step, run_id, shape, nxt, job_id=job_id)
