"""Deciding what runs next inside a job, in the caller's transaction.

Rules:
- A pending step is ready when each of its dependencies is completed or skipped.
- A ready step whose dependencies were all skipped is skipped too, so a chain after a branch
  that did not run does not run either. A step with at least one completed dependency runs
  (its `upstream` has no entry for skipped ones): a merge after mutually exclusive branches
  runs after whichever branch ran.
- A ready step whose condition evaluates false is skipped.
- A condition that cannot be evaluated on the data fails the step (and so the job).
- A ready manual step or review gate waits for a person (`waiting`; a gate opens its review)
  unless its `auto_when` holds, then it runs like any step (ctx.payload is None).
- When every step is terminal the job is completed, or failed if any step failed.
- A failed job cancels every step that has not finished (fail fast).

Lock order everywhere: the job row, then its steps, then their attempts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from backend.jobs import snapshots
from backend.jobs.outbox import Outbox
from backend.jobs.rows import JobRow, ReadyStep
from backend.jobs.states import (
    JOB_TERMINAL,
    STEP_TERMINAL,
    A,
    AttemptStatus,
    JobStatus,
    Kind,
    Now,
    Pending,
    S,
    StepStatus,
    finished,
    send_transition,
    sql_list,
    sql_literal,
    transition,
)
from backend.queue import AttemptRef, Dispatch
from backend.reviews import queries as reviews
from backend.workflows import expressions

ACTIVE_STEP = frozenset(
    {
        StepStatus.PENDING,
        StepStatus.WAITING,
        StepStatus.QUEUED,
        StepStatus.RUNNING,
        StepStatus.RETRYING,
    }
)


# a step after a submitted review gate has completed: the draft is applied (the EXISTS is only
# evaluated for jobs whose draft is approved or rejected)
_APPLIED = f"""CASE WHEN jobs.draft_state NOT IN ('approved', 'rejected') THEN jobs.draft_state
    WHEN EXISTS (SELECT 1 FROM job_steps a JOIN job_steps g ON g.job_id = a.job_id
                 AND a.depends_on ? g.step_key
                 WHERE a.job_id = jobs.id AND g.run = 'review'
                   AND a.status = {sql_literal(S.COMPLETED)}) THEN 'applied'
    ELSE jobs.draft_state END"""

READY_SQL = f"""
    SELECT s.id, s.step_key, s.name, s.condition, s.timeout_seconds, s.attempt_count, s.run,
           s.auto_when,
           jsonb_array_length(s.depends_on) > 0 AND NOT EXISTS (
             SELECT 1 FROM job_steps d
             WHERE d.job_id = s.job_id AND s.depends_on ? d.step_key
               AND d.status <> {sql_literal(S.SKIPPED)}
           ) AS upstream_skipped
    FROM job_steps s
    WHERE s.job_id = %s AND s.status = {sql_literal(S.PENDING)}
      AND NOT EXISTS (
        SELECT 1 FROM job_steps d
        WHERE d.job_id = s.job_id AND s.depends_on ? d.step_key
          AND d.status NOT IN {sql_list(S.COMPLETED, S.SKIPPED)})
    ORDER BY s.step_index
"""


def send_ready(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> psycopg.Cursor[ReadyStep]:
    """The job's ready steps (READY_SQL), sent; the caller fetches them (pipelines allowed)."""
    return conn.cursor(row_factory=class_row(ReadyStep)).execute(READY_SQL, (job_id,))


class QueueableStep(Protocol):
    """What queueing a step's next attempt reads of it (a ready step, a step to retry)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def step_key(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def attempt_count(self) -> int: ...
    @property
    def timeout_seconds(self) -> float | None: ...


def advance(
    conn: psycopg.Connection[Any],
    job: JobRow,
    outbox: Outbox,
    ready: list[ReadyStep] | None = None,
) -> None:
    """Queue (or skip) every step whose dependencies are done, until nothing changes, then
    settle the job (progress, current step, completion). `job` is the job's locked row
    (`queries.get_job(..., lock=True)`). `ready` is READY_SQL's result when
    the caller already has it. The last queueing and the settle travel in one round trip."""
    rows = send_ready(conn, job.id).fetchall() if ready is None else ready
    while True:
        sent, skipped_any = _send_ready(conn, job, rows, outbox)
        if sent is None:  # a condition broke: the job has failed
            return
        if skipped_any:  # skipping may have made more steps ready
            _resolve(job, sent, outbox)
            sent = []
            rows = send_ready(conn, job.id).fetchall()
            if rows:
                continue
        stats = conn.execute(SETTLE_SQL, {"terminal": _TERMINAL, "job_id": job.id})
        _resolve(job, sent, outbox)
        _conclude(conn, job.id, stats.fetchone(), outbox)
        return


def _send_ready(
    conn: psycopg.Connection[Any], job: JobRow, rows: list[ReadyStep], outbox: Outbox
) -> tuple[list[Pending] | None, bool]:
    sent: list[Pending] = []
    skipped_any = False
    for step in rows:
        verdict = _condition_verdict(conn, job, step)
        if verdict is True and not _runs_by_itself(conn, job, step):
            sent.append(_wait(conn, job, step))
        elif verdict is True:
            sent.append(new_attempt(conn, job, step, outbox, from_status=StepStatus.PENDING))
        elif verdict is False:
            sent.append(_skip(conn, step))
            skipped_any = True
        else:
            _fail_condition(conn, job, step, verdict, outbox)
            return None, False
    return sent, skipped_any


def _resolve(job: JobRow, sent: list[Pending], outbox: Outbox) -> None:
    for pending in sent:
        moved = pending.result()
        if moved is None:
            raise RuntimeError(f"a ready step of job {job.id} changed under the job lock")
        outbox.add_event(moved.event)


def _condition_verdict(conn: psycopg.Connection[Any], job: JobRow, step: ReadyStep) -> bool | str:
    """True/False, or the error message when the condition cannot be evaluated."""
    if step.upstream_skipped:
        return False
    if not step.condition:
        return True
    return _evaluate(conn, job, step.condition)


def _runs_by_itself(conn: psycopg.Connection[Any], job: JobRow, step: ReadyStep) -> bool:
    """An auto step, or a manual step or gate whose `auto_when` holds (an expression that
    cannot be evaluated does not: the step waits for a person)."""
    if step.run == "auto":
        return True
    return step.auto_when is not None and _evaluate(conn, job, step.auto_when) is True


def _wait(conn: psycopg.Connection[Any], job: JobRow, step: ReadyStep) -> Pending:
    """A manual step or a gate waits for a person; a gate opens its review of the items."""
    moved = send_transition(
        conn,
        Kind.STEP,
        step.id,
        StepStatus.WAITING,
        allowed_from=frozenset({StepStatus.PENDING}),
        event_data={"step_name": step.name, "run": step.run},
    )
    if step.run == "review":
        reviews.open_review(conn, job, step.id)
    return moved


def _evaluate(conn: psycopg.Connection[Any], job: JobRow, condition: str) -> bool | str:
    tree = expressions.parse(condition)
    keys = sorted(expressions.referenced_steps(tree))
    outputs: dict[str, Any] = {}
    if keys:
        rows = conn.execute(
            "SELECT step_key, output_data FROM job_steps WHERE job_id = %s AND step_key = ANY(%s)",
            (job.id, keys),
        )
        outputs = {r["step_key"]: r["output_data"] for r in rows}
    try:
        return expressions.evaluate(tree, job.input_payload, outputs)
    except expressions.EvaluationError as exc:
        return f"condition {condition!r} could not be evaluated: {exc}"


def _skip(conn: psycopg.Connection[Any], step: ReadyStep) -> Pending:
    reason = (
        "every dependency was skipped"
        if step.upstream_skipped
        else f"condition false: {step.condition}"
    )
    return send_transition(
        conn,
        Kind.STEP,
        step.id,
        StepStatus.SKIPPED,
        sets={"error_message": None, "completed_at": Now()},
        event_data={"step_name": step.name, "reason": reason},
    )


def _fail_condition(
    conn: psycopg.Connection[Any],
    job: JobRow,
    step: ReadyStep,
    message: str,
    outbox: Outbox,
) -> None:
    """A condition that breaks on the data fails its step without running it."""
    done = transition(
        conn,
        Kind.STEP,
        step.id,
        StepStatus.FAILED,
        sets={"error_message": message, "error_type": "ConditionError", "completed_at": Now()},
        event_data={"step_name": step.name, "error": message},
    )
    outbox.add_event(done.event if done else None)
    fail_job(conn, job.id, f"Step '{step.name}' failed: {message}", outbox)


@dataclass(frozen=True)
class Execution:
    """A person's execution of a manual step (or a gate's submit): the payload the step
    receives as ctx.payload, and who asked with which idempotency key."""

    payload: Any
    by: str
    idempotency_key: str | None = None
    payload_hash: str | None = None


def new_attempt(
    conn: psycopg.Connection[Any],
    job: JobRow,
    step: QueueableStep,
    outbox: Outbox,
    from_status: StepStatus,
    execution: Execution | None = None,
) -> Pending:
    """Queue the step with its next attempt; the message goes out after commit. The caller
    reads the returned transition (it runs under the job lock, so it matches)."""
    attempt_id = uuid.uuid4()
    number = step.attempt_count + 1
    sets: dict[str, Any] = {"attempt_count": number, "next_attempt_at": None}
    if execution is not None:
        sets["input_data"] = Jsonb({"payload": execution.payload})  # read by the claim
    moved = send_transition(
        conn,
        Kind.STEP,
        step.id,
        StepStatus.QUEUED,
        allowed_from=frozenset({from_status}),
        sets=sets,
        attempt_id=attempt_id,
        event_data={"step_name": step.name, "attempt": number},
    )
    values = (attempt_id, job.id, step.id, job.workspace_id, step.step_key, number)
    if execution is None:
        conn.execute(_NEW_ATTEMPT_SQL, values)
    else:
        e = execution
        conn.execute(_EXECUTED_ATTEMPT_SQL, (*values, e.idempotency_key, e.payload_hash, e.by))
    ref = AttemptRef(attempt_id, step.id, job.id, starts_job=job.status == JobStatus.PENDING)
    outbox.dispatches.append(Dispatch(ref, step.timeout_seconds))
    return moved


_NEW_ATTEMPT_SQL = f"""
    INSERT INTO step_attempts (id, job_id, step_id, workspace_id, step_key, attempt_number,
                               status, cost_usd)
    VALUES (%s, %s, %s, %s, %s, %s, {sql_literal(A.QUEUED)}, 0)
"""

_EXECUTED_ATTEMPT_SQL = f"""
    INSERT INTO step_attempts (id, job_id, step_id, workspace_id, step_key, attempt_number,
                               status, cost_usd, idempotency_key, payload_hash, executed_by)
    VALUES (%s, %s, %s, %s, %s, %s, {sql_literal(A.QUEUED)}, 0, %s, %s, %s)
"""

SETTLE_SQL = f"""
    WITH stats AS (
        SELECT count(*) AS total,
               count(*) FILTER (WHERE status = ANY(%(terminal)s)) AS done,
               count(*) FILTER (WHERE status IN {sql_list(S.COMPLETED, S.SKIPPED)}) AS succeeded,
               count(*) FILTER (WHERE status IN {sql_list(S.FAILED, S.TIMED_OUT)}) AS failed,
               (array_agg(name ORDER BY step_index)
                    FILTER (WHERE status IN {sql_list(S.RUNNING, S.QUEUED, S.RETRYING, S.WAITING)}))[1] AS current,
               (array_agg(run ORDER BY step_index)
                    FILTER (WHERE status = {sql_literal(S.WAITING)}))[1] AS waiting
        FROM job_steps WHERE job_id = %(job_id)s
    )
    UPDATE jobs SET steps_done = stats.succeeded, current_step = stats.current, updated_at = now(),
                    progress = CASE WHEN stats.total > 0 THEN stats.succeeded::float / stats.total ELSE 1 END,
                    waiting_for = stats.waiting,
                    draft_state = {_APPLIED}
    FROM stats WHERE jobs.id = %(job_id)s
    RETURNING stats.total, stats.done, stats.failed
"""
_TERMINAL = sorted(str(s) for s in STEP_TERMINAL)
_LEAF_OUTPUTS_SQL = f"""
    SELECT s.step_key, s.output_data FROM job_steps s
    WHERE s.job_id = %s AND s.status = {sql_literal(S.COMPLETED)}
      AND NOT EXISTS (SELECT 1 FROM job_steps o WHERE o.job_id = s.job_id AND o.depends_on ? s.step_key)
    ORDER BY s.step_index
"""
_FIRST_ERROR_SQL = f"""
    SELECT name, error_message FROM job_steps
    WHERE job_id = %s AND status IN {sql_list(S.FAILED, S.TIMED_OUT)}
    ORDER BY completed_at NULLS LAST, step_index LIMIT 1
"""
_LIVE_ATTEMPTS_SQL = f"""
    SELECT id FROM step_attempts WHERE job_id = %s AND status IN {sql_list(A.QUEUED, A.RUNNING)}
"""


def settle_job(conn: psycopg.Connection[Any], job_id: uuid.UUID, outbox: Outbox) -> None:
    """Update progress and current step; complete or fail the job when every step is terminal."""
    stats = conn.execute(SETTLE_SQL, {"terminal": _TERMINAL, "job_id": job_id}).fetchone()
    _conclude(conn, job_id, stats, outbox)


def _conclude(
    conn: psycopg.Connection[Any], job_id: uuid.UUID, stats: dict[str, Any] | None, outbox: Outbox
) -> None:
    assert stats is not None
    if stats["done"] < stats["total"]:
        return
    if stats["failed"]:
        fail_job(conn, job_id, _first_error(conn, job_id), outbox)
        return
    finished = transition(
        conn,
        Kind.JOB,
        job_id,
        JobStatus.COMPLETED,
        sets={
            "output_payload": Jsonb(_leaf_outputs(conn, job_id)),
            "completed_at": Now(),
            "current_step": None,
        },
        event_data=_job_event_data(conn, job_id),
    )
    if finished is not None:
        outbox.add_event(finished.event)
        snapshots.note_ended(conn, job_id, outbox.ended_jobs)


def _leaf_outputs(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> dict[str, Any]:
    """The job's output: the outputs of its steps that nothing depends on."""
    rows = conn.execute(_LEAF_OUTPUTS_SQL, (job_id,))
    return {r["step_key"]: r["output_data"] for r in rows}


def _first_error(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> str:
    row = conn.execute(_FIRST_ERROR_SQL, (job_id,)).fetchone()
    if row is None:
        return "a step failed"
    return f"Step '{row['name']}' failed: {row['error_message']}"


def _job_event_data(
    conn: psycopg.Connection[Any], job_id: uuid.UUID, **extra: Any
) -> dict[str, Any]:
    row = conn.execute(
        "SELECT EXTRACT(EPOCH FROM now() - coalesce(started_at, created_at))::float AS d FROM jobs WHERE id = %s",
        (job_id,),
    ).fetchone()
    return {"duration_seconds": row["d"] if row else None, **extra}


def fail_job(conn: psycopg.Connection[Any], job_id: uuid.UUID, error: str, outbox: Outbox) -> None:
    """Fail the job with its first error and cancel whatever has not finished."""
    failed = transition(
        conn,
        Kind.JOB,
        job_id,
        JobStatus.FAILED,
        sets={"error_message": error, "completed_at": Now(), "current_step": None},
        event_data=_job_event_data(conn, job_id, error=error),
    )
    if failed is None:
        return
    outbox.add_event(failed.event)
    snapshots.note_ended(conn, job_id, outbox.ended_jobs)
    stop_steps(conn, job_id, outbox, reason="not run: the job failed")
    conn.execute("UPDATE jobs SET waiting_for = NULL WHERE id = %s", (job_id,))


def stop_steps(
    conn: psycopg.Connection[Any], job_id: uuid.UUID, outbox: Outbox, reason: str
) -> None:
    """Cancel every unfinished step and its queued or running attempt. A worker still running
    one sees it at its next heartbeat and stops; its late writes are fenced out."""
    steps = conn.execute(
        "SELECT id, name FROM job_steps WHERE job_id = %s AND status = ANY(%s) ORDER BY step_index",
        (job_id, [str(s) for s in ACTIVE_STEP]),
    ).fetchall()
    for step in steps:
        moved = transition(
            conn,
            Kind.STEP,
            step["id"],
            StepStatus.CANCELLED,
            sets={"error_message": reason, **finished("completed_at")},
            event_data={"step_name": step["name"], "reason": reason},
        )
        outbox.add_event(moved.event if moved else None)
    attempts = conn.execute(_LIVE_ATTEMPTS_SQL, (job_id,)).fetchall()
    for attempt in attempts:
        transition(
            conn,
            Kind.ATTEMPT,
            attempt["id"],
            AttemptStatus.CANCELLED,
            sets={"error_message": reason, "error_type": "Cancelled", **finished()},
        )


def job_is_active(status: str) -> bool:
    return status not in JOB_TERMINAL
