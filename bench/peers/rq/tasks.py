"""Raw rq 2.12: each no-op step is an rq job that enqueues the next one (no `depends_on`,
which stalled chains in rq 3.0); fan8's middle steps count down in Redis and the last of them
enqueues the final step."""

from __future__ import annotations

from rq import Queue, get_current_job
from workload import fan_in, successors

QUEUE = "bench"


def step(run_id: str, shape: str, index: int) -> None:
    job = get_current_job()
    assert job is not None
    queue = Queue(QUEUE, connection=job.connection)
    nexts = successors(shape, index)
    last = fan_in(shape, index)
    if last is not None and job.connection.decr(f"bench:fanin:{run_id}") == 0:
        nexts = [last]
    for nxt in nexts:
        queue.enqueue(step, run_id, shape, nxt, job_id=f"{run_id}-{nxt}")
