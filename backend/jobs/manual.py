"""Manual steps: a person executes a waiting step with a payload (validated against the
step's `input_schema`, given to the step as ctx.payload). Idempotent by key: the same key and
payload are a replay of the first execution, the same key with another payload is refused.
A `repeatable` step may be executed again after it completed, while nothing after it has
started (a gate waiting on it forgets its review: its items are being replaced)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from backend.audit import Actor
from backend.errors import IdempotencyConflict, InvalidInput, InvalidTransition, NotFound
from backend.jobs import queries, scheduler
from backend.jobs.outbox import Outbox
from backend.jobs.rows import HumanStep, JobRow
from backend.jobs.states import JOB_TERMINAL, Kind, S, StepStatus, transition
from backend.reviews import queries as reviews
from backend.workflows import queries as workflows
from backend.workflows.definition import StepDefinition, apply_defaults
from backend.workflows.input_schema import validate as validate_input

RUNNING = frozenset({S.QUEUED, S.RUNNING, S.RETRYING})


@dataclass(frozen=True)
class Executed:
    job_id: uuid.UUID
    step_key: str
    attempt_id: uuid.UUID
    attempt_number: int
    replayed: bool  # an earlier execution with the same key and payload


def payload_digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def execute_step(
    conn: psycopg.Connection[Any],
    actor: Actor,
    job_id: uuid.UUID,
    step_key: str,
    payload: dict[str, Any] | None,
    outbox: Outbox,
    idempotency_key: str | None = None,
) -> Executed:
    """Queue a waiting manual step (or re-run a completed repeatable one) with the payload."""
    job = queries.get_job(conn, job_id, workspace_id=actor.workspace_id, lock=True, names=False)
    steps = queries.human_steps(conn, job_id)
    step = _find(steps, job_id, step_key)
    spec = workflows.step_definition(conn, job.workflow_version_id, step_key)
    value = _validated(spec, payload)
    digest = payload_digest(value)
    if idempotency_key is not None:
        earlier = queries.executed_attempt(conn, step.id, key=idempotency_key)
        if earlier is not None:
            if earlier.payload_hash != digest:
                raise IdempotencyConflict(
                    f"idempotency key {idempotency_key!r} was already used with another payload",
                    {"attempt_id": str(earlier.id)},
                )
            return Executed(job_id, step_key, earlier.id, earlier.attempt_number, replayed=True)
    _check_executable(job, step, spec)
    if step.status == S.COMPLETED:
        _reset_downstream(conn, job, steps, step_key, outbox)
    execution = scheduler.Execution(value, actor.actor[:200], idempotency_key, digest)
    moved = scheduler.new_attempt(
        conn, job, step, outbox, from_status=StepStatus(step.status), execution=execution
    ).result()
    assert moved is not None, "the step changed under the job lock"
    outbox.add_event(moved.event)
    scheduler.settle_job(conn, job_id, outbox)
    row = queries.executed_attempt(conn, step.id, number=step.attempt_count + 1)
    assert row is not None, "the attempt just queued is gone"
    return Executed(job_id, step_key, row.id, row.attempt_number, replayed=False)


def _find(steps: list[HumanStep], job_id: uuid.UUID, key: str) -> HumanStep:
    for s in steps:
        if s.step_key == key:
            return s
    raise NotFound(f"job {job_id} has no step {key!r}", {"steps": [s.step_key for s in steps]})


def _validated(spec: StepDefinition, payload: dict[str, Any] | None) -> dict[str, Any]:
    value = {} if payload is None else payload
    schema = spec.input_schema or {"type": "object"}
    problems = validate_input(schema, value, root="payload")
    if problems:
        raise InvalidInput(f"payload does not match the input schema of step {spec.key}", problems)
    filled: dict[str, Any] = apply_defaults(schema, value)
    return filled


def _check_executable(job: JobRow, step: HumanStep, spec: StepDefinition) -> None:
    """409 with the reason when the step may not be executed now."""
    if job.status in JOB_TERMINAL:
        raise InvalidTransition(f"job {job.id} is {job.status}: its steps cannot run any more")
    if step.run != "manual":
        raise InvalidTransition(
            f"step {step.step_key!r} is not a manual step (run: {step.run}); it starts by itself"
            if step.run == "auto"
            else f"step {step.step_key!r} is a review gate: submit its review instead"
        )
    if step.status == S.WAITING:
        return
    if step.status == S.COMPLETED and spec.repeatable:
        return
    reasons = {
        S.PENDING: "it is not ready: its dependencies have not completed",
        S.COMPLETED: "it has already completed and is not repeatable",
    }
    reason = reasons.get(StepStatus(step.status))
    if reason is None:
        reason = "it is already running" if step.status in RUNNING else f"it is {step.status}"
    raise InvalidTransition(f"step {step.step_key!r} cannot be executed: {reason}")


def _reset_downstream(
    conn: psycopg.Connection[Any],
    job: JobRow,
    steps: list[HumanStep],
    key: str,
    outbox: Outbox,
) -> None:
    """Before a repeatable step runs again: every step after it must not have started; the
    waiting ones go back to pending (a gate forgets its review)."""
    after = _downstream(steps, key)
    started = [s.step_key for s in after if s.status not in (S.PENDING, S.WAITING)]
    if started:
        raise InvalidTransition(
            f"step {key!r} cannot be executed again: steps after it have started ({', '.join(started)})"
        )
    for s in after:
        if s.status != S.WAITING:
            continue
        moved = transition(
            conn,
            Kind.STEP,
            s.id,
            StepStatus.PENDING,
            allowed_from=frozenset({StepStatus.WAITING}),
            event_data={"step_name": s.name, "reason": f"{key} is executed again"},
        )
        outbox.add_event(moved.event if moved else None)
        if s.run == "review":
            reviews.discard_review(conn, s.id)
            reviews.set_draft_state(conn, job.id, "none")


def _downstream(steps: list[HumanStep], key: str) -> list[HumanStep]:
    found: set[str] = {key}
    changed = True
    while changed:
        changed = False
        for s in steps:
            if s.step_key not in found and found & set(s.depends_on):
                found.add(s.step_key)
                changed = True
    return [s for s in steps if s.step_key in found and s.step_key != key]
