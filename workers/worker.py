"""Our rq workers: `Worker` (forking) and `SimpleWorker`, both riding out Redis outages.

rq's own loop quits on most Redis errors outside its dequeue (heartbeats, bookkeeping around a
job, maintenance). Here that bookkeeping is best effort: PostgreSQL is the record, so a lost
status write in Redis loses nothing, and the reaper re-enqueues what is missing. Waiting for
a job, registering the worker and the suspension check wait the outage out (one log line per
outage, see backend.outages).

The forking worker: rq's `Worker`, with the database work moved out of the work horse.

The parent claims the attempt and records its outcome over its long-lived connection; the
horse, forked per job as usual, only runs the step function (user code stays isolated).
A forked child cannot reuse the parent's connection, so doing the writes in the horse would
cost a new connection and a cold server backend per step. The parent also sees at once when
a horse dies (killed, out of memory) and records the attempt as lost without waiting for the
lease to expire."""

from __future__ import annotations

import gc
import os
import signal
import time
from typing import Any

from redis.exceptions import RedisError
from rq import SimpleWorker as RqSimpleWorker
from rq import Worker as RqWorker
from rq.job import Job
from rq.queue import Queue

from backend import outages
from backend.jobs.attempts import Failure
from backend.jobs.states import AttemptStatus
from backend.queue import TASK
from workers import continuation, outcome_file, tasks
from workers.claimed import ClaimedAttempt, Handoff, attempt_span, handed_to_horse
from workers.context import ColdShutdown
from workers.runner import Outcome
from workers.watchdog import ThreadWatchdog, Watched, timeout_failure


class ResilientQueue(Queue):
    @classmethod
    def dequeue_any(cls, *args: Any, **kwargs: Any) -> Any:
        return outages.retry(lambda: super(ResilientQueue, cls).dequeue_any(*args, **kwargs))


def _best_effort(call: Any, *args: Any, **kwargs: Any) -> Any:
    """rq's bookkeeping in Redis: skipped (None) while Redis is away. (Not every call
    reaches Redis, so a success here does not say Redis is back: waiting for work does.)"""
    try:
        return call(*args, **kwargs)
    except RedisError as exc:
        if not outages.noted(exc):
            raise
        return None


class Resilient:
    queue_class = ResilientQueue
    stop_asked = False  # SIGTERM/SIGINT: the loop that runs us must not start it again

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)  # type: ignore[misc]

    def request_force_stop(self, signum: Any, frame: Any) -> None:
        try:
            super().request_force_stop(signum, frame)  # type: ignore[misc]
        except SystemExit:
            raise ColdShutdown() from None  # not a failure of the step it interrupts

    def register_birth(self) -> None:
        outages.retry(super().register_birth)  # type: ignore[misc]

    def check_for_suspension(self, burst: bool) -> None:
        outages.retry(lambda: super(Resilient, self).check_for_suspension(burst))  # type: ignore[misc]

    def prepare_execution(self, job: Job) -> Any:
        return outages.retry(lambda: super(Resilient, self).prepare_execution(job))  # type: ignore[misc]

    def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        _best_effort(super().heartbeat, *args, **kwargs)  # type: ignore[misc]

    def maintain_heartbeats(self, *args: Any) -> None:
        _best_effort(super().maintain_heartbeats, *args)  # type: ignore[misc]

    def set_state(self, *args: Any, **kwargs: Any) -> None:
        _best_effort(super().set_state, *args, **kwargs)  # type: ignore[misc]

    def run_maintenance_tasks(self) -> None:
        _best_effort(super().run_maintenance_tasks)  # type: ignore[misc]

    def prepare_job_execution(self, *args: Any, **kwargs: Any) -> None:
        _best_effort(super().prepare_job_execution, *args, **kwargs)  # type: ignore[misc]

    def perform_job(self, *args: Any) -> bool:
        return bool(_best_effort(super().perform_job, *args))  # type: ignore[misc]

    def monitor_work_horse(self, *args: Any) -> None:
        _best_effort(super().monitor_work_horse, *args)  # type: ignore[misc]

    def teardown(self) -> None:
        _best_effort(super().teardown)  # type: ignore[misc]

    def _pubsub_exception_handler(self, exc: Exception, *args: Any) -> None:
        if not outages.noted(exc):
            super()._pubsub_exception_handler(exc, *args)  # type: ignore[misc]
        time.sleep(outages.MAX_DELAY)


class SimpleWorker(Resilient, RqSimpleWorker):
    """Steps run in the worker process. A step whose completion makes exactly one step of its
    job ready claims it and runs it next, without a trip through rq (workers.continuation)."""

    def execute_job(self, job: Job, queue: Queue) -> Any:
        if job.func_name != TASK:
            return super().execute_job(job, queue)
        offer = continuation.Offer(self.name, lambda: bool(self._stop_requested))
        with continuation.offered(offer):
            result = super().execute_job(job, queue)
        continuation.run_successors(offer.next, tasks.run_successor, offer, self._keep_registered)
        return result

    def _keep_registered(self, ttl: int) -> None:
        self.heartbeat(ttl)


class Worker(Resilient, RqWorker):
    _watchdog: ThreadWatchdog | None = None
    _killed: str | None = None  # the attempt whose horse the watchdog killed

    def execute_job(self, job: Job, queue: Queue) -> Any:
        if job.func_name != TASK:
            return super().execute_job(job, queue)
        ref = tasks.to_ref(*job.args)
        with attempt_span(ref) as span:
            claimed = ClaimedAttempt.claim_attempt(ref, self.name)
            path = outcome_file.path_for(ref.attempt_id)
            gc.freeze()  # the horse then copies fewer pages: the collector leaves old objects alone
            if claimed is not None:
                self._dog().watch(Watched.of(claimed.claim))
            try:
                with handed_to_horse(Handoff(str(ref.attempt_id), claimed, path)):
                    result = super().execute_job(job, queue)
            finally:
                self._dog().unwatch()
            if claimed is not None:
                killed = self._killed == str(ref.attempt_id)
                claimed.describe(span)
                claimed.record_traced(outcome_file.read(path) or _horse_died(claimed, killed), span)
        return result

    def _dog(self) -> ThreadWatchdog:
        if self._watchdog is None:
            self._watchdog = ThreadWatchdog(self._kill_for_timeout)
        return self._watchdog

    def _kill_for_timeout(self, watched: Watched) -> None:
        self._killed = watched.attempt_id
        if self.horse_pid:
            self.kill_horse(signal.SIGKILL)


def _horse_died(claimed: ClaimedAttempt, killed_for_timeout: bool) -> Outcome:
    """A dead horse cannot tell whether it published the claim's events: they are sent
    (again); subscribers skip event ids they already have."""
    if killed_for_timeout:
        return Outcome(failure=timeout_failure(claimed.claim.timeout_seconds or 0))
    return Outcome(
        failure=Failure(
            AttemptStatus.LOST,
            "WorkHorseDied",
            f"the work horse of worker pid {os.getpid()} exited without a result (killed or crashed)",
        ),
    )
