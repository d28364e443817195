"""The status vocabulary of jobs, steps and attempts, and which of them are terminal: the one
list the engine, the API, the CLI and the web monitor share. No dependencies, so clients can
import it without the engine."""

from __future__ import annotations

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
