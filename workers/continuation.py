"""Continuation on the same worker (see backend.jobs.continuation), the worker's side.

Our SimpleWorker offers to continue while rq performs a step's message (`offered`); the
step's record then claims the first child that became ready, if any, in its completing
transaction (`wanted` says with which worker name and lease). Once rq has finished its own
bookkeeping of that message, the worker runs the claimed child (`run_successors`), outside
rq's job timeout (each step keeps its own timeout, heartbeat and lease), and so on down the
chain, at most `MAX_CHAIN` steps per message so that a long chain does not keep the worker
from the rest of the queue. A worker asked to stop (SIGTERM) stops offering: what it has
claimed it runs (like any step under a warm shutdown), nothing more. Only a worker that will
run what it claims offers: rq's plain SimpleWorker, the forking Worker and the tests' burst
workers enqueue every child as before.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from backend.jobs.continuation import Successor
from backend.queue import NO_TIMEOUT_BACKSTOP, TIMEOUT_GRACE
from backend.settings import get_settings
from workers.claimed import ClaimedAttempt

MAX_CHAIN = 100  # continued steps per queue message; the next child then goes through rq


@dataclass
class Offer:
    worker: str
    stopping: Callable[[], bool]
    left: int = MAX_CHAIN
    next: ClaimedAttempt | None = None  # claimed by the message's step, run after it

    def successor(self) -> Successor | None:
        if self.left <= 0 or self.stopping():
            return None
        return Successor(self.worker, os.getpid(), get_settings().lease_ttl)


_offer: Offer | None = None


@contextmanager
def offered(offer: Offer) -> Iterator[Offer]:
    """While rq performs a message in this worker: its step may claim its successor."""
    global _offer
    _offer = offer
    try:
        yield offer
    finally:
        _offer = None


def wanted() -> Successor | None:
    """Whom a completing step in this process should claim its first ready child for."""
    return _offer.successor() if _offer is not None else None


def hand_over(claimed: ClaimedAttempt | None) -> None:
    """The successor a message's step claimed, for the worker to run once rq is done."""
    if _offer is not None:
        _offer.next = claimed


def run_successors(
    first: ClaimedAttempt | None,
    run: Callable[[ClaimedAttempt], ClaimedAttempt | None],
    offer: Offer,
    keep_registered: Callable[[int], None],
) -> None:
    """Run the chain of claimed successors: `run` executes and records one (with the offer
    open) and returns the next. `keep_registered(ttl)` renews the worker's rq registration
    when the next step could outlive it (rq renews it only between messages)."""
    registered_until = 0.0
    claimed = first
    while claimed is not None:
        offer.left -= 1
        timeout = claimed.claim.timeout_seconds
        needed = (int(timeout) + TIMEOUT_GRACE if timeout else NO_TIMEOUT_BACKSTOP) + 60
        if time.monotonic() + needed > registered_until:
            keep_registered(needed + 60)
            registered_until = time.monotonic() + needed + 60
        with offered(offer):
            claimed = run(claimed)
