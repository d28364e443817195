"""Our rq workers: `Worker` (forking) and `SimpleWorker`, both riding out Redis outages.

rq's own loop quits on most Redis errors outside its dequeue (heartbeats, bookkeeping around a
job, maintenance). Here that bookkeeping is best effort: PostgreSQL is the record, so a lost
status write in Redis loses nothing, and the reaper re-enqueues what is missing. Waiting for
a job, registering the worker and the suspension check wait the outage out (one log line per
outage, see backend.outages).

The forking worker: rq's `Worker`, with the database work moved out of the work horse.

The parent claims the attempt and records its outcome over its long-lived connection; the
horse, forked per step message, only runs the step function (user code stays isolated) and
writes its outcome to a file; it never talks to Redis (rq's own horse would open a connection
per fork for its bookkeeping).
A forked child cannot reuse the parent's connection, so doing the writes in the horse would
cost a new connection and a cold server backend per step. The parent also sees at once when
a horse dies (killed, out of memory) and records the attempt as lost without waiting for the
lease to expire."""

from __future__ import annotations

import gc
import logging
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker as RqSimpleWorker
from rq import Worker as RqWorker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.job import JobStatus as RqJobStatus
from rq.queue import Queue
from rq.timeouts import HorseMonitorTimeoutException
from rq.worker import WorkerStatus

from backend import outages
from backend.jobs.attempts import Failure
from backend.jobs.states import AttemptStatus
from backend.queue import RESULT_TTL, TASK
from backend.tracing import Span
from workers import continuation, outcome_file, tasks
from workers.claimed import ClaimedAttempt, attempt_span
from workers.context import ColdShutdown
from workers.runner import Outcome, execute
from workers.watchdog import ThreadWatchdog, Watched, timeout_failure

log = logging.getLogger(__name__)

HEARTBEAT_GAP = 1.0  # seconds: rq's own heartbeats closer than this are skipped (see below)
CLAIM_WINDOW = 120  # seconds a taken step message's key lives (time for its claim to commit)


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

    _beat_at = 0.0  # monotonic time of the last heartbeat sent on its own
    _alive_until = 0.0  # a lower bound of the worker key's expiry (monotonic)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        """rq calls this three or four times per message, each a Redis round trip of its own;
        one a second is enough for a key that lives minutes. Skipped only when the last one
        sent (on its own or inside one of rq's pipelines, e.g. its suspension check) is under
        a second old and already keeps the worker's key at least as long as asked, give or
        take that second. Every beat sets the key's expiry (EXPIRE does not only extend it), so
        a short one in a pipeline makes the next long one go out."""
        ttl = timeout or self.worker_ttl + 60  # type: ignore[attr-defined]
        now = time.monotonic()
        recent = now - self._beat_at < HEARTBEAT_GAP
        if pipeline is None and recent and now + ttl - HEARTBEAT_GAP <= self._alive_until:
            return
        _best_effort(super().heartbeat, timeout, pipeline)  # type: ignore[misc]
        self._beat_at, self._alive_until = now, now + ttl

    def maintain_heartbeats(self, *args: Any) -> None:
        _best_effort(super().maintain_heartbeats, *args)  # type: ignore[misc]

    def set_state(self, state: Any, pipeline: Any = None) -> None:
        """rq sets `idle` after each message and again before waiting for the next: the
        second, a round trip that changes nothing, is skipped."""
        if pipeline is None and state == WorkerStatus.IDLE and self._state == state:  # type: ignore[attr-defined]
            return
        _best_effort(super().set_state, state, pipeline)  # type: ignore[misc]

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

    # The short path of a step message through rq's bookkeeping (see SimpleWorker)
    connection: Redis
    queues: list[Queue]

    _taken_at = 0.0  # monotonic time of the last _take

    def _take(self, job: Job, queue: Queue) -> None:
        """Busy; the message started, out of rq's intermediate list, kept for its claim."""
        self._taken_at = time.monotonic()
        with self.connection.pipeline() as pipe:
            self.set_state(WorkerStatus.BUSY, pipeline=pipe)
            job.set_status(RqJobStatus.STARTED, pipeline=pipe)
            pipe.expire(job.key, CLAIM_WINDOW)
            if len(self.queues) == 1:  # rq dequeued it through the intermediate list
                pipe.lrem(queue.intermediate_queue_key, 1, job.id)
            _best_effort(pipe.execute)

    def _release(self, job: Job) -> None:
        """The message finished (kept as long as rq keeps a finished job); the worker idle.
        A message taken longer ago than `CLAIM_WINDOW` has no key left to mark: writing its
        status would make a stray hash of that one field."""
        with self.connection.pipeline() as pipe:
            if time.monotonic() - self._taken_at < CLAIM_WINDOW:
                job.set_status(RqJobStatus.FINISHED, pipeline=pipe)
                pipe.expire(job.key, RESULT_TTL)
            self.set_state(WorkerStatus.IDLE, pipeline=pipe)
            _best_effort(pipe.execute)


class SimpleWorker(Resilient, RqSimpleWorker):
    """Steps run in the worker process. A step whose completion makes steps of its job ready
    claims the first and runs it next, without a trip through rq (workers.continuation).

    A step message takes a short path through rq's bookkeeping (`_take`, `_release`: two
    Redis round trips instead of about fifteen). rq's execution records, started and finished
    registries, worker statistics and job results exist for rq to recover and report what it
    runs; here PostgreSQL does both (attempt rows, leases, the reaper), as it does for
    continued steps. What the rest of the system reads from Redis stays true: the worker is
    busy while a step runs (a SIGTERM then waits for it), a taken message leaves the queue's
    intermediate list, and its job says started, then finished. A started job's key expires
    after `CLAIM_WINDOW`: a worker that died before its claim committed leaves the attempt
    queued in PostgreSQL with no live message, and the reaper enqueues it again."""

    def execute_job(self, job: Job, queue: Queue) -> Any:
        if job.func_name != TASK:
            return super().execute_job(job, queue)
        offer = continuation.Offer(self.name, lambda: bool(self._stop_requested))
        self._take(job, queue)
        with continuation.offered(offer):
            try:
                tasks.run_message(job.args, self.name)
            except StopRequested:  # rq's warm shutdown: its loop ends
                raise
            except Exception:  # our bug, not the step's (execute records those): keep working
                log.exception("step message %s failed; the reaper recovers its attempt", job.id)
                self.set_state(WorkerStatus.IDLE)
                return None
        continuation.run_successors(offer.next, tasks.run_successor, offer, self._keep_registered)
        self._release(job)
        return None

    def _keep_registered(self, ttl: int) -> None:
        self.heartbeat(ttl)


class Worker(Resilient, RqWorker):
    """A step message takes the short path through rq's bookkeeping, as with SimpleWorker
    (`_take`, `_release`); the parent claims, forks a horse that only runs the step and writes
    its outcome file, waits for it and records. The horse never talks to Redis: rq's own horse
    would open a Redis connection per fork for its registries and result."""

    _watchdog: ThreadWatchdog | None = None
    _killed: str | None = None  # the attempt whose horse the watchdog killed

    def execute_job(self, job: Job, queue: Queue) -> Any:
        if job.func_name != TASK:
            return super().execute_job(job, queue)
        self._take(job, queue)
        try:
            ref = tasks.to_ref(*job.args)
            with attempt_span(ref) as span:
                claimed = ClaimedAttempt.claim_attempt(ref, self.name)
                if claimed is not None:
                    self._run_in_horse(claimed, job, span)
        except StopRequested:  # rq's warm shutdown: its loop ends
            raise
        except Exception:  # our bug, not the step's (the horse records those): keep working
            log.exception("step message %s failed; the reaper recovers its attempt", job.id)
            self.set_state(WorkerStatus.IDLE)
            return None
        self._release(job)
        return None

    def _run_in_horse(self, claimed: ClaimedAttempt, job: Job, span: Span) -> None:
        path = outcome_file.path_for(claimed.claim.attempt_id)
        self._dog().watch(Watched.of(claimed.claim))
        try:
            self._fork_horse(claimed, path)
            self._wait_for_horse(job)
        finally:
            self._dog().unwatch()
        killed = self._killed == str(claimed.claim.attempt_id)
        claimed.describe(span)
        claimed.record_traced(outcome_file.read(path) or _horse_died(claimed, killed), span)

    def _fork_horse(self, claimed: ClaimedAttempt, path: Path) -> None:
        """The horse: its own process group (a kill reaches the step's children), SIGINT
        ignored (a first Ctrl+C lets the step finish), the step run, its outcome written."""
        gc.freeze()  # the horse then copies fewer pages: its collector leaves these objects alone
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                os.setpgrp()
                random.seed()
                self.setup_work_horse_signals()
                outcome_file.write(path, execute(claimed))
                status = 0
            finally:
                os._exit(status)
        gc.unfreeze()  # the parent's own collector keeps finding its garbage cycles
        self._horse_pid = pid

    def _wait_for_horse(self, job: Job) -> None:
        """Until the horse exits, beating for the worker every monitoring interval; a horse
        past rq's own backstop (the message's timeout + 60 s) is killed, as rq does."""
        started = time.monotonic()
        while True:
            try:
                with self.death_penalty_class(
                    self.job_monitoring_interval, HorseMonitorTimeoutException
                ):
                    self.wait_for_horse()
                break
            except HorseMonitorTimeoutException:
                self.heartbeat(self.job_monitoring_interval + 60)
                if job.timeout and time.monotonic() - started > job.timeout + 60:
                    self.kill_horse()
                    self.wait_for_horse()
                    break
        self._horse_pid = 0

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
