"""Operator actions on jobs: create, cancel, resume, re-run, delete. Each takes the caller's
connection (the caller commits) and an Outbox to flush after the commit."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from backend import payload_limits
from backend.audit import Actor, record_audit
from backend.budgets import service as budgets
from backend.errors import (
    ConcurrencyLimited,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    RateLimited,
)
from backend.jobs import queries, rerun, retention, scheduler, snapshots
from backend.jobs.outbox import Outbox
from backend.jobs.rerun import Reuse
from backend.jobs.states import (
    JOB_RESUMABLE,
    JOB_TERMINAL,
    STEP_RESUMABLE,
    JobStatus,
    Kind,
    Now,
    StepStatus,
    record_event,
    transition,
)
from backend.runs.modes import RunMode
from backend.workflows import queries as workflows
from backend.workflows.definition import WorkflowDefinition, apply_defaults
from backend.workflows.input_schema import validate as validate_input
from backend.workflows.rows import WorkflowRow


@dataclass(frozen=True)
class Created:
    job_id: uuid.UUID
    replayed: bool  # an earlier request with the same idempotency key made this job
    replaced: tuple[uuid.UUID, ...] = ()  # the active jobs a forced start cancelled


@dataclass(frozen=True)
class System:
    """The actor of audit entries written without a caller (a service used directly)."""

    workspace_id: uuid.UUID
    actor: str = "system"


def payload_hash(workflow_id: uuid.UUID, payload: Any) -> str:
    text = json.dumps(
        {"workflow": str(workflow_id), "input": payload}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


def create_job(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    workflow_ref: str | uuid.UUID,
    input_payload: dict[str, Any] | None,
    outbox: Outbox,
    *,
    idempotency_key: str | None = None,
    force: bool = False,
    version_id: uuid.UUID | None = None,
    rerun_of: uuid.UUID | None = None,
    mode: RunMode = RunMode.GLOBAL_BATCH,
    item_id: str | None = None,
    actor: Actor | None = None,
    metadata: dict[str, Any] | None = None,
    reuse: Reuse | None = None,
) -> Created:
    """Validate the payload, apply idempotency and the concurrency policy, store the job and
    its steps, and queue the steps that can start.

    A request whose idempotency key already made a job is a replay of it, also when the two
    requests ran concurrently: the key is looked up again under the workflow's lock (creates
    of one workflow are serial), before the policy could refuse the replay, and once more if
    the insert meets the key after all.

    The policy applies to `global_batch` runs only; a forced start cancels the active ones and
    audits each cancel with the new job's id as the reason. `actor` (the requester) is recorded
    on the job and in those audit entries."""
    payload_limits.check_input(input_payload)
    _check_mode(mode, item_id)
    workflow = workflows.find_workflow(conn, workspace_id, workflow_ref)
    version = (
        workflows.version_by_id(conn, version_id)
        if version_id
        else workflows.latest_version(conn, workflow)
    )
    schema = version.input_schema
    payload = {} if input_payload is None else input_payload
    problems = validate_input(schema, payload)
    if problems:
        raise InvalidInput(
            f"input_payload does not match the input schema of {workflow.name}", problems
        )
    payload = apply_defaults(schema, payload)
    digest = payload_hash(workflow.id, payload)
    replay = _replay(conn, workspace_id, idempotency_key, digest)
    if replay is not None:
        return replay
    workflows.lock_workflow(conn, workflow.id)
    replay = _replay(conn, workspace_id, idempotency_key, digest)  # a concurrent create's
    if replay is not None:
        return replay
    definition = WorkflowDefinition.model_validate(version.definition)
    budgets.check_start(conn, workspace_id, workflow.id, force)
    replaced = _apply_policy(conn, workflow, definition, force, mode)
    number = workflows.next_execution_number(conn, workflow.id)
    job_id = queries.insert_job(
        conn,
        queries.NewJob(
            workspace_id,
            workflow.id,
            version.id,
            number,
            len(version.definition["steps"]),
            mode,
            item_id,
            actor.actor[:200] if actor else None,
        ),
        payload,
        digest,
        idempotency_key,
        rerun_of,
        metadata,
    )
    if job_id is None:  # a concurrent request with the same key won the insert
        replay = _replay(conn, workspace_id, idempotency_key, digest)
        assert replay is not None
        return replay
    queries.insert_steps(
        conn, job_id, workspace_id, definition, reuse.keys if reuse else frozenset()
    )
    created: dict[str, Any] = {"execution_number": number}
    if actor is not None:
        created["actor"] = actor.actor[:200]
    if rerun_of is not None:
        created["rerun_of"] = str(rerun_of)
    outbox.add_event(record_event(conn, job_id, "workflow_created", data=created))
    for old in replaced:
        _replace(conn, actor or System(workspace_id), old, job_id, outbox)
    if reuse is not None:
        _reuse_steps(conn, job_id, reuse, outbox)
    scheduler.advance(conn, queries.get_job(conn, job_id, lock=True, names=False), outbox)
    return Created(job_id, replayed=False, replaced=tuple(replaced))


def _check_mode(mode: RunMode, item_id: str | None) -> None:
    if mode is RunMode.SINGLE_RUN:
        raise InvalidInput(
            "mode single_run resumes an existing run: resume that job instead",
            [
                {
                    "loc": ["body", "mode"],
                    "msg": "single_run is not a new job: POST /jobs/{id}/resume",
                }
            ],
        )
    if (mode is RunMode.SINGLE_ITEM) != bool(item_id):
        raise InvalidInput(
            "item_id goes with mode single_item, and single_item needs an item_id",
            [
                {
                    "loc": ["body", "item_id"],
                    "msg": f"{'missing' if item_id is None else 'not used'} in mode {mode}",
                }
            ],
        )


def _replace(
    conn: psycopg.Connection[Any],
    actor: Actor,
    old: uuid.UUID,
    new: uuid.UUID,
    outbox: Outbox,
) -> None:
    """Cancel an active job for a forced start, with the new job's id as the reason."""
    reason = f"replaced by job {new} (forced start)"
    before = cancel_job(conn, actor.workspace_id, old, outbox, reason=reason)
    record_audit(
        conn,
        actor,
        "job.cancel",
        "job",
        old,
        before,
        str(JobStatus.CANCELLED),
        {"reason": reason, "replaced_by": str(new)},
    )


def _reuse_steps(
    conn: psycopg.Connection[Any], job_id: uuid.UUID, reuse: Reuse, outbox: Outbox
) -> None:
    keys = sorted(reuse.keys)
    queries.insert_reused_steps(conn, job_id, reuse.source_job_id, keys)
    for key in keys:
        data = {"reused_from_job_id": str(reuse.source_job_id)}
        outbox.add_event(record_event(conn, job_id, "step_reused", step_key=key, data=data))


def _replay(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, key: str | None, digest: str
) -> Created | None:
    """The job an earlier request with this key made; IdempotencyConflict when it was made
    with another workflow or payload."""
    existing = None if key is None else queries.job_by_idempotency_key(conn, workspace_id, key)
    if existing is None:
        return None
    if existing.payload_hash != digest:
        raise IdempotencyConflict(
            f"idempotency key {key!r} was already used with another workflow or payload",
            {"job_id": str(existing.id)},
        )
    return Created(existing.id, replayed=True)


def _apply_policy(
    conn: psycopg.Connection[Any],
    workflow: WorkflowRow,
    definition: WorkflowDefinition,
    force: bool,
    mode: RunMode,
) -> list[uuid.UUID]:
    """Duplicate detection and the rate limit, for global_batch runs; the active jobs a forced
    start is to cancel."""
    policy = definition.concurrency
    if mode is not RunMode.GLOBAL_BATCH:
        return []
    replaced: list[uuid.UUID] = []
    if policy.max_concurrent_jobs is not None:
        active = queries.active_job_ids(conn, workflow.id, mode)
        if len(active) >= policy.max_concurrent_jobs:
            if not force:
                raise ConcurrencyLimited(
                    f"workflow {workflow.name} is already running job {active[-1]} ({mode}"
                    f"{f' and {len(active) - 1} more' if len(active) > 1 else ''}; "
                    f"max_concurrent_jobs={policy.max_concurrent_jobs}): wait for it, stop it, "
                    "or use force to cancel it and start",
                    {"active_job_ids": [str(j) for j in active]},
                )
            locked = [  # the lock order: jobs by id, then their counters
                queries.get_job(conn, job_id, lock=True, payloads=False, names=False)
                for job_id in sorted(active)
            ]
            queries.lock_job_counts(conn, workflow.workspace_id, workflow.id)
            # cancelled once the new job exists (its id is the reason); a job that ended
            # between the read and its lock is left as it ended
            replaced = [j.id for j in locked if j.status not in JOB_TERMINAL]
    if policy.min_seconds_between_starts is not None and not force:
        last = queries.seconds_until_start(
            conn, workflow.id, policy.min_seconds_between_starts, mode
        )
        if last is not None and last[1] > 0:
            job_id, wait = last
            raise RateLimited(
                f"workflow {workflow.name} allows one {mode} start every "
                f"{policy.min_seconds_between_starts:g} s; job {job_id} started "
                f"{policy.min_seconds_between_starts - wait:.1f} s ago: retry in {wait:.1f} s",
                retry_after=wait,
                details={"last_job_id": str(job_id), "retry_after_seconds": round(wait, 1)},
            )
    return replaced


def cancel_job(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    outbox: Outbox,
    reason: str = "cancelled",
    actor: str | None = None,
) -> str:
    """Cancel a pending or running job; returns the status it had. `actor` (who asked) goes
    into the `cancelled` event, for the job's event history."""
    job = queries.get_job(
        conn, job_id, workspace_id=workspace_id, lock=True, payloads=False, names=False
    )
    moved = transition(
        conn,
        Kind.JOB,
        job_id,
        JobStatus.CANCELLED,
        sets={
            "error_message": f"Cancelled: {reason}" if reason != "cancelled" else "Cancelled",
            "completed_at": Now(),
            "current_step": None,
        },
        event_data={"reason": reason, **({"actor": actor[:200]} if actor else {})},
    )
    if moved is None:
        raise InvalidTransition(
            f"job {job_id} is {job.status}: only pending or running jobs can be cancelled"
        )
    outbox.add_event(moved.event)
    snapshots.note_ended(conn, job_id, outbox.ended_jobs)
    scheduler.stop_steps(
        conn,
        job_id,
        outbox,
        reason=f"cancelled: {reason}" if reason != "cancelled" else "cancelled",
    )
    scheduler.settle_job(conn, job_id, outbox)
    return str(job.status)


def resume_job(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    outbox: Outbox,
    actor: str | None = None,
) -> str:
    """Run a failed or cancelled job again from where it stopped: completed and skipped steps
    keep their output and attempts; failed, timed out, cancelled and never-run steps run."""
    job = queries.get_job(
        conn, job_id, workspace_id=workspace_id, lock=True, payloads=False, names=False
    )
    moved = transition(
        conn,
        Kind.JOB,
        job_id,
        JobStatus.PENDING,
        allowed_from=JOB_RESUMABLE,
        sets={"completed_at": None, "error_message": None},
        event_data={"actor": actor[:200]} if actor else None,
    )
    if moved is None:
        raise InvalidTransition(
            f"job {job_id} is {job.status}: only failed or cancelled jobs can be resumed"
        )
    outbox.add_event(moved.event)
    for step in queries.resumable_steps(conn, job_id):
        reset = transition(
            conn,
            Kind.STEP,
            step.id,
            StepStatus.PENDING,
            allowed_from=STEP_RESUMABLE,
            sets={
                "max_attempts": step.attempt_count + int(step.retry["max_attempts"]),
                "error_message": None,
                "error_type": None,
                "completed_at": None,
                "next_attempt_at": None,
                "progress": 0.0,
            },
            event_data={"step_name": step.name},
        )
        outbox.add_event(reset.event if reset else None)
    scheduler.advance(conn, queries.get_job(conn, job_id, lock=True, names=False), outbox)
    return str(job.status)


def rerun_job(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    outbox: Outbox,
    actor: Actor | None = None,
    *,
    from_step: str | None = None,
    input_patch: dict[str, Any] | None = None,
    latest_version: bool = False,
) -> Created:
    """A new job linked to the original: the same workflow version (or the workflow's latest
    with `latest_version`), run mode and item, and input (with `input_patch` merged in, RFC
    7386); `actor` is its requester. With `from_step` it reuses the outputs of the steps
    outside that step's downstream (same version only) and runs the step and everything after
    it."""
    job = queries.get_job(conn, job_id, workspace_id=workspace_id)
    assert job.input_payload is not None
    mode, item_id = queries.run_mode_of(conn, job_id)
    if from_step is not None and latest_version:
        msg = "a from-step re-run reuses steps of the same version; drop latest_version"
        raise InvalidInput(msg, [{"loc": ["body", "latest_version"], "msg": msg}])
    reuse = None
    if from_step is not None:
        version = workflows.version_by_id(conn, job.workflow_version_id)
        definition = WorkflowDefinition.model_validate(version.definition)
        steps = queries.list_steps(conn, workspace_id, job_id)
        reuse = rerun.plan_reuse(definition, job_id, steps, from_step)
    return create_job(
        conn,
        workspace_id,
        job.workflow_id,
        rerun.merge_patch(job.input_payload, input_patch or {}),
        outbox,
        version_id=None if latest_version else job.workflow_version_id,
        rerun_of=job_id,
        reuse=reuse,
        mode=RunMode(mode),
        item_id=item_id,
        actor=actor,
    )


def delete_job(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID) -> str:
    """Delete a finished job with everything it recorded."""
    job = queries.get_job(
        conn, job_id, workspace_id=workspace_id, lock=True, payloads=False, names=False
    )
    if job.status not in JOB_TERMINAL:
        raise InvalidTransition(f"job {job_id} is {job.status}: cancel it before deleting it")
    retention.delete_jobs(conn, [job_id])
    return str(job.status)
