"""The status vocabulary of jobs, steps and attempts, and which of them are terminal: the one
list the engine, the API, the CLI and the web monitor share. No dependencies, so clients can
import it without the engine."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    PENDING = "pending"  # waiting for its dependencies
    WAITING = "waiting"  # ready, waiting for a person: a manual step's execute, a gate's submit
    QUEUED = "queued"  # an attempt is on the rq queue
    RUNNING = "running"
    RETRYING = "retrying"  # an attempt failed; the next one starts after the backoff
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"  # condition false, or an upstream step was skipped
    CANCELLED = "cancelled"  # the job was cancelled or failed before this step ran


class AttemptStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    LOST = "lost"  # its lease expired: the worker died or hung
    CANCELLED = "cancelled"


class Kind(StrEnum):
    JOB = "job"
    STEP = "step"
    ATTEMPT = "attempt"


J, S, A = JobStatus, StepStatus, AttemptStatus

JOB_TERMINAL = frozenset({J.COMPLETED, J.FAILED, J.CANCELLED})
STEP_TERMINAL = frozenset({S.COMPLETED, S.FAILED, S.TIMED_OUT, S.SKIPPED, S.CANCELLED})
ATTEMPT_TERMINAL = frozenset({A.COMPLETED, A.FAILED, A.TIMED_OUT, A.LOST, A.CANCELLED})
JOB_RESUMABLE = frozenset({J.FAILED, J.CANCELLED})
STEP_RESUMABLE = frozenset({S.FAILED, S.TIMED_OUT, S.CANCELLED})

# `success_rate`: the share of finished executions that completed. Finished means every
# terminal job status (completed, failed, cancelled; an execution listed as `timeout` is a
# failed job); pending and running jobs are not counted. The one definition the metrics API,
# the workflows list and the web monitor use.
RATE_FINISHED = (J.COMPLETED, J.FAILED, J.CANCELLED)


def success_rate(counts: Mapping[str, int]) -> float | None:
    """completed / (completed + failed + cancelled) x 100; None before any job finished."""
    finished = sum(counts.get(status, 0) for status in RATE_FINISHED)
    return None if not finished else 100.0 * counts.get(J.COMPLETED, 0) / finished


def retry_count(attempts: int) -> int:
    """Retries so far: attempts - 1 (0 before the first attempt too). The number events,
    timelines and execution records all show."""
    return max(attempts - 1, 0)


def workflow_step_id(workflow_id: uuid.UUID | str, step_key: str) -> uuid.UUID:
    """The id of a workflow's step (the job matrix's `step_id`): stable for a key across
    versions, the same in every job, computable from any record that has the two."""
    return uuid.uuid5(uuid.UUID(str(workflow_id)), step_key)
