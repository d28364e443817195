"""Continuation on the same worker: when a step's completion makes steps of its job ready, the
worker that ran it claims the first one's new attempt in the same transaction and runs it next,
without a trip through the queue (Temporal's sticky execution, DBOS's workflow in one process).
In a fan-out the other ready steps go through rq as before, so that other workers run them
meanwhile: one branch stays on this worker, the rest spread out.

Nothing of the record changes: the child's attempt row is created queued (its `step_queued`
event), then claimed by the same conditional update with a fresh lease from the database
clock (its `step_running` event), exactly as a worker that took it from rq would. Only the rq
message is not sent. Because the claim commits with the parent's completion, there is no
moment where the child is queued in PostgreSQL without a message in Redis: if the worker dies
after the commit, the child's lease expires and the reaper declares it lost and retries it
(at-least-once, one committed success, as for any claimed attempt). The shared commit waits
for its WAL flush like every completion (a plain claim does not: see `attempts.claim`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from backend.jobs import attempts
from backend.jobs.attempts import Claim, NotRunnable
from backend.jobs.outbox import Outbox


@dataclass(frozen=True)
class Successor:
    """Who would run the first ready child: the worker's name and pid, and its lease."""

    worker: str
    pid: int
    lease_ttl: float


def claim_successor(
    conn: psycopg.Connection[Any], outbox: Outbox, successor: Successor
) -> tuple[Claim, Outbox] | None:
    """In the completing transaction, after the scheduler queued what became ready: claim the
    first of those attempts for `successor` and take its message out of `outbox` (the others
    keep theirs). Returns the claim and its events (held, like any claim's, until the step
    has run a moment or ended), or None (nothing became ready)."""
    if not outbox.dispatches:
        return None
    ref = outbox.dispatches[0].ref
    events = Outbox()
    try:
        claimed = attempts.claim(
            conn, ref, successor.worker, successor.pid, successor.lease_ttl, events, durable=True
        )
    except NotRunnable as exc:  # queued under the job's lock in this very transaction
        raise RuntimeError(f"the attempt just queued could not be claimed: {exc}") from exc
    del outbox.dispatches[0]
    return claimed, events
