"""The forking worker: rq's `Worker`, with the database work moved out of the work horse.

The parent claims the attempt and records its outcome over its long-lived connection; the
horse, forked per job as usual, only runs the step function (user code stays isolated).
A forked child cannot reuse the parent's connection, so doing the writes in the horse would
cost a new connection and a cold server backend per step. The parent also sees at once when
a horse dies (killed, out of memory) and records the attempt as lost without waiting for the
lease to expire."""

from __future__ import annotations

import gc
import os
import tempfile
from pathlib import Path
from typing import Any

from rq import Worker as RqWorker
from rq.job import Job
from rq.queue import Queue

from backend.jobs.attempts import Failure
from backend.jobs.states import AttemptStatus
from backend.queue import TASK
from workers import outcome_file, tasks
from workers.claimed import ClaimedAttempt, Handoff, attempt_span, handed_to_horse
from workers.runner import Outcome

_SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())


class Worker(RqWorker):
    def execute_job(self, job: Job, queue: Queue) -> Any:
        if job.func_name != TASK:
            return super().execute_job(job, queue)
        ref = tasks.to_ref(*job.args)
        with attempt_span(ref) as span:
            claimed = ClaimedAttempt.claim_attempt(ref, self.name)
            path = _SCRATCH / f"jobmonitor-{ref.attempt_id}.json"
            gc.freeze()  # the horse then copies fewer pages: the collector leaves old objects alone
            with handed_to_horse(Handoff(str(ref.attempt_id), claimed, path)):
                result = super().execute_job(job, queue)
            if claimed is not None:
                claimed.describe(span)
                claimed.record_traced(outcome_file.read(path) or _horse_died(), span)
        return result


def _horse_died() -> Outcome:
    """A dead horse cannot tell whether it published the claim's events: they are sent
    (again); subscribers skip event ids they already have."""
    return Outcome(
        failure=Failure(
            AttemptStatus.LOST,
            "WorkHorseDied",
            f"the work horse of worker pid {os.getpid()} exited without a result (killed or crashed)",
        ),
    )
