"""The life of one attempt, as the worker and the reaper see it: claim (queued -> running with
a lease from the database clock), heartbeat, and the fenced final write. The caller owns the
transaction; each function returns what to publish/enqueue after commit in the Outbox."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from backend.db import batch
from backend.errors import NotFound
from backend.jobs import queries, scheduler, snapshots
from backend.jobs.outbox import Outbox
from backend.jobs.rows import ExpiredAttempt, JobRow, StepToRetry
from backend.jobs.states import (
    AttemptStatus,
    Increase,
    JobStatus,
    Kind,
    Now,
    NowIfUnset,
    NowPlus,
    StepStatus,
    finished,
    record_event,
    send_transition,
    sql_literal,
    transition,
)
from backend.jobs.statuses import retry_count
from backend.queue import AttemptRef
from backend.workflows.definition import RetryPolicy


@dataclass
class Claim:
    """What a worker needs to run an attempt it has claimed."""

    attempt_id: uuid.UUID
    job_id: uuid.UUID
    step_id: uuid.UUID
    workspace_id: uuid.UUID
    step_key: str
    step_name: str
    attempt_number: int
    lease_token: uuid.UUID
    action: str
    params: dict[str, Any]
    input: dict[str, Any]
    upstream: dict[str, Any]
    timeout_seconds: float | None
    mode: str = "global_batch"  # the run's mode and item (backend/runs), for the step to read
    item_id: str | None = None
    payload: Any = None  # a person's payload (manual step, review gate), else None


@dataclass
class Records:
    """What an attempt reported while it ran, written with its outcome (or by a heartbeat)."""

    logs: list[tuple[str, str]] = field(default_factory=list)  # (level, message)
    costs: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[tuple[str, float, str | None]] = field(default_factory=list)

    def take(self) -> Records:
        taken = Records(self.logs, self.costs, self.metrics)
        self.logs, self.costs, self.metrics = [], [], []
        return taken

    @property
    def total_cost(self) -> Decimal:
        return sum((Decimal(str(c["amount_usd"])) for c in self.costs), Decimal(0))


@dataclass(frozen=True)
class Failure:
    status: AttemptStatus  # failed, timed_out or lost
    error_type: str
    message: str
    traceback: str | None = None


class NotRunnable(Exception):
    """The attempt may not run (cancelled, taken, or lost). Raised inside the caller's
    transaction so that everything the claim or finish sent is rolled back."""


def claim(
    conn: psycopg.Connection[Any],
    ref: AttemptRef,
    worker: str,
    pid: int,
    lease_ttl: float,
    outbox: Outbox,
    durable: bool = False,
) -> Claim:
    """queued -> running with a fresh lease; raises NotRunnable.

    The job row is locked only when this claim may start the job (pending -> running, and
    only messages queued while the job was pending try: `ref.starts_job`); a claim in a
    running job is ordered against a cancel by the step's row lock instead: the
    cancel either finds the step running (and cancels its attempt) or the claim finds it
    cancelled. The commit does not wait for its WAL flush: if PostgreSQL itself crashed and
    lost this claim, the attempt would be queued again and run again, which is what a worker
    crash does too (at-least-once). Completions are always durable before anything follows.
    `durable`: the claim shares a transaction with a completion (backend.jobs.continuation),
    whose commit keeps waiting for its WAL flush.
    """
    token = uuid.uuid4()
    with batch(conn):
        # lock order as everywhere: job, step, attempt. The job transition only matches (and
        # locks) a pending job; in a running job the step's row lock orders us against a cancel.
        job_p = None
        if ref.starts_job:
            job_p = send_transition(
                conn,
                Kind.JOB,
                ref.job_id,
                JobStatus.RUNNING,
                sets={"started_at": NowIfUnset()},
            )
        step_p = send_transition(
            conn,
            Kind.STEP,
            ref.step_id,
            StepStatus.RUNNING,
            attempt_id=ref.attempt_id,
            sets={"started_at": NowIfUnset()},
            event_data={"worker": worker},
        )
        attempt_p = send_transition(
            conn,
            Kind.ATTEMPT,
            ref.attempt_id,
            AttemptStatus.RUNNING,
            sets={
                "worker_name": worker[:200],
                "pid": pid,
                "lease_token": token,
                "lease_expires_at": NowPlus(lease_ttl),
                "heartbeat_at": Now(),
                "started_at": Now(),
            },
        )
        context = conn.execute(_DURABLE_CONTEXT_SQL if durable else _CONTEXT_SQL, (ref.step_id,))
        started = job_p.result() if job_p else None
        step, attempt, row = step_p.result(), attempt_p.result(), context.fetchone()
    if attempt is None or step is None or row is None or row["job_status"] != JobStatus.RUNNING:
        raise NotRunnable(f"attempt {ref.attempt_id} is not queued for a pending or running job")
    for event in (started.event if started else None, step.event):
        outbox.add_event(event)
    if started is not None and (row["snapshot"] or row["expected_work"]):
        # under the job lock: no step runs before it
        snapshots.save_before(
            conn, ref.job_id, row["snapshot"], row["expected_work"], row["input_payload"]
        )
    s = step.row
    return Claim(
        attempt_id=ref.attempt_id,
        job_id=ref.job_id,
        step_id=ref.step_id,
        workspace_id=s["workspace_id"],
        step_key=s["step_key"],
        step_name=s["name"],
        attempt_number=attempt.row["attempt_number"],
        lease_token=token,
        action=s["action"],
        params=s["params"] or {},
        input=row["input_payload"] or {},
        upstream=row["upstream"],
        timeout_seconds=s["timeout_seconds"],
        mode=row["run_mode"],
        item_id=row["item_id"],
        payload=row["payload"],
    )


INPUT_REF_BYTES = 65536  # an upstream output larger than this is recorded as a reference

_UPSTREAM = f"""FROM job_steps d WHERE d.job_id = s.job_id AND s.depends_on ? d.step_key
              AND d.status = {sql_literal(StepStatus.COMPLETED)}"""

# The step's context, recording what it is given (`input_data`: its params and upstream
# outputs, a large output as a reference, and a person's payload, which a manual step's
# execution put there), and the claim's `SET LOCAL synchronous_commit =
# off` (not when the claim shares its transaction with a completion), all in one statement.
_CONTEXT_TEMPLATE = f"""
    WITH ctx AS (
        SELECT s.id, s.params, j.input_payload, j.status AS job_status, j.run_mode, j.item_id,
               s.input_data->'payload' AS payload,
               v.definition->>'snapshot' AS snapshot,
               v.definition->>'expected_work' AS expected_work,
               (SELECT coalesce(jsonb_object_agg(d.step_key, d.output_data), '{{}}'::jsonb)
                {_UPSTREAM}) AS upstream,
               (SELECT coalesce(jsonb_object_agg(d.step_key,
                    CASE WHEN octet_length(d.output_data::text) > {INPUT_REF_BYTES}
                    THEN jsonb_build_object('ref', jsonb_build_object('step', d.step_key,
                         'field', 'output_data'), 'size_bytes', octet_length(d.output_data::text))
                    ELSE d.output_data END), '{{}}'::jsonb)
                {_UPSTREAM}) AS upstream_given
        FROM job_steps s JOIN jobs j ON j.id = s.job_id
        JOIN workflow_versions v ON v.id = j.workflow_version_id WHERE s.id = %s
    ),
    recorded AS (
        UPDATE job_steps t
        SET input_data = jsonb_build_object('params', ctx.params, 'upstream', ctx.upstream_given)
            || CASE WHEN ctx.payload IS NULL THEN '{{}}'::jsonb
                    ELSE jsonb_build_object('payload', ctx.payload) END
        FROM ctx WHERE t.id = ctx.id
    )
    SELECT <commit_mode> AS commit_mode,
           input_payload, job_status, run_mode, item_id, payload, snapshot, expected_work,
           upstream
    FROM ctx
"""

_CONTEXT_SQL = _CONTEXT_TEMPLATE.replace(
    "<commit_mode>", "set_config('synchronous_commit', 'off', true)"
)
_DURABLE_CONTEXT_SQL = _CONTEXT_TEMPLATE.replace("<commit_mode>", "NULL")

_HEARTBEAT_SQL = f"""
    UPDATE step_attempts SET lease_expires_at = now() + make_interval(secs => %s), heartbeat_at = now()
    WHERE id = %s AND lease_token = %s AND status = {sql_literal(AttemptStatus.RUNNING)}
    RETURNING step_id
"""
_PROGRESS_SQL = f"""
    UPDATE job_steps SET progress = %s WHERE id = %s AND status = {sql_literal(StepStatus.RUNNING)}
"""


def heartbeat(
    conn: psycopg.Connection[Any],
    attempt_id: uuid.UUID,
    token: uuid.UUID,
    lease_ttl: float,
    progress: float | None,
) -> bool:
    """Extend the lease. False when the attempt no longer runs under this token (cancelled,
    or declared lost): the worker must stop the step."""
    row = conn.execute(_HEARTBEAT_SQL, (float(lease_ttl), attempt_id, token)).fetchone()
    if row is not None and progress is not None:
        conn.execute(_PROGRESS_SQL, (progress, row["step_id"]))
    return row is not None


def write_records(conn: psycopg.Connection[Any], c: Claim, records: Records) -> None:
    """Batch inserts: one round trip per kind, however many lines."""
    if records.logs:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO step_logs (job_id, step_id, attempt_id, level, message) VALUES (%s, %s, %s, %s, %s)",
                [
                    (c.job_id, c.step_id, c.attempt_id, level, message)
                    for level, message in records.logs
                ],
            )
    if records.costs:
        with conn.cursor() as cur:
            cur.executemany(
                """
                INSERT INTO step_costs (job_id, step_id, attempt_id, kind, provider, model,
                                        tokens_in, tokens_out, amount_usd)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                """,
                [
                    (
                        c.job_id,
                        c.step_id,
                        c.attempt_id,
                        x["kind"],
                        x["provider"],
                        x["model"],
                        x["tokens_in"],
                        x["tokens_out"],
                        Decimal(str(x["amount_usd"])),
                    )
                    for x in records.costs
                ],
            )
    if records.metrics:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO step_metrics (job_id, step_id, attempt_id, name, value, unit) VALUES (%s, %s, %s, %s, %s, %s)",
                [(c.job_id, c.step_id, c.attempt_id, n, v, u) for n, v, u in records.metrics],
            )


def finish_success(
    conn: psycopg.Connection[Any], c: Claim, output: Any, records: Records, outbox: Outbox
) -> None:
    """Record the output and schedule what became ready, in two or three round trips.
    Raises NotRunnable when this attempt had already lost its lease or been cancelled:
    nothing of it may be written."""
    cost = records.total_cost
    with batch(conn):
        job_lookup = queries.send_get_job(conn, c.job_id, lock=True, names=False)
        attempt_p = send_transition(
            conn,
            Kind.ATTEMPT,
            c.attempt_id,
            AttemptStatus.COMPLETED,
            fence=c.lease_token,
            sets={"cost_usd": cost, **finished()},
        )
        write_records(conn, c, records)
        step_p = send_transition(
            conn,
            Kind.STEP,
            c.step_id,
            StepStatus.COMPLETED,
            attempt_id=c.attempt_id,
            sets={
                "output_data": Jsonb(output),
                "progress": 1.0,
                **finished("completed_at"),
                "cost_usd": Increase(cost),
                "error_message": None,
                "error_type": None,
            },
            event_data={
                "step_name": c.step_name,
                "attempt": c.attempt_number,
                "retry_count": retry_count(c.attempt_number),
                "output": _summary(output),
            },
        )
        _add_job_cost(conn, c.job_id, cost)
        ready = scheduler.send_ready(conn, c.job_id)
        job, attempt, step = _job(job_lookup), attempt_p.result(), step_p.result()
        if job is None or attempt is None or step is None:
            raise NotRunnable(f"attempt {c.attempt_id} no longer holds its lease")
        outbox.add_event(step.event)
        scheduler.advance(conn, job, outbox, ready=ready.fetchall())


def finish_failure(
    conn: psycopg.Connection[Any],
    c: Claim,
    failure: Failure,
    records: Records,
    outbox: Outbox,
    still_expired: bool = False,
) -> None:
    """Record a failed, timed out or lost attempt; retry per the step's policy or fail the job.
    `still_expired` (the reaper) writes only if no heartbeat has extended the lease meanwhile.
    Raises NotRunnable when the attempt no longer holds its lease."""
    cost = records.total_cost
    with batch(conn):
        job_lookup = queries.send_get_job(conn, c.job_id, lock=True, names=False)
        attempt_p = send_transition(
            conn,
            Kind.ATTEMPT,
            c.attempt_id,
            failure.status,
            fence=c.lease_token,
            lease_expired=still_expired,
            sets={
                "cost_usd": cost,
                "error_type": failure.error_type[:200],
                "error_message": failure.message,
                "traceback": failure.traceback,
                **finished(),
            },
            attempt_id=c.attempt_id,
            event_data={"step_name": c.step_name, "error": failure.message},
        )
        write_records(conn, c, records)
        _add_job_cost(conn, c.job_id, cost)
        if cost:
            conn.execute(
                "UPDATE job_steps SET cost_usd = cost_usd + %s WHERE id = %s", (cost, c.step_id)
            )
        step_cursor = conn.cursor(row_factory=class_row(StepToRetry)).execute(
            _STEP_TO_RETRY_SQL, (c.step_id,)
        )
        job, attempt, step = _job(job_lookup), attempt_p.result(), step_cursor.fetchone()
        if job is None or attempt is None or step is None:
            raise NotRunnable(f"attempt {c.attempt_id} no longer holds its lease")
        outbox.add_event(attempt.event)
        _after_failure(conn, job, step, c, failure, outbox)


_STEP_TO_RETRY_SQL = """
    SELECT id, step_key, name, timeout_seconds, attempt_count, retry, max_attempts
    FROM job_steps WHERE id = %s
"""


def _job(lookup: queries.JobLookup) -> JobRow | None:
    """The job's locked row, None when it is gone (its attempt's write then matched nothing)."""
    try:
        return lookup.result()
    except NotFound:
        return None


def _after_failure(
    conn: psycopg.Connection[Any],
    job: JobRow,
    step: StepToRetry,
    c: Claim,
    failure: Failure,
    outbox: Outbox,
) -> None:
    delay = next_retry(RetryPolicy.model_validate(step.retry), c.attempt_number, step.max_attempts)
    errors = {"error_type": failure.error_type[:200], "error_message": failure.message}
    data = {
        "step_name": c.step_name,
        "error": failure.message,
        "retry_count": retry_count(c.attempt_number),
        "attempt": c.attempt_number,
    }
    if delay is not None:
        # every failed attempt is a `step_failed` (the telemetry contract's), then `retrying`;
        # not a status change of the step, so no from/to status
        outbox.add_event(
            record_event(
                conn,
                c.job_id,
                "step_failed",
                step_key=c.step_key,
                attempt_id=c.attempt_id,
                data={**data, "status": failure.status.value, "will_retry": True},
            )
        )
        waiting = transition(
            conn,
            Kind.STEP,
            c.step_id,
            StepStatus.RETRYING,
            attempt_id=c.attempt_id,
            sets={**errors, "next_attempt_at": NowPlus(delay)},
            event_data={**data, "retry_in_seconds": delay},
        )
        outbox.add_event(waiting.event if waiting else None)
        if waiting is not None and delay == 0:
            scheduler.new_attempt(conn, job, step, outbox, from_status=StepStatus.RETRYING).result()
        elif waiting is not None:  # started at its due time (backend.jobs.retry_timer)
            outbox.retries.append((c.step_id, c.job_id, delay))
        scheduler.settle_job(conn, c.job_id, outbox)
        return
    final = StepStatus.TIMED_OUT if failure.status == AttemptStatus.TIMED_OUT else StepStatus.FAILED
    failed = transition(
        conn,
        Kind.STEP,
        c.step_id,
        final,
        attempt_id=c.attempt_id,
        sets={**errors, **finished("completed_at")},
        event_data=data,
    )
    outbox.add_event(failed.event if failed else None)
    scheduler.fail_job(conn, c.job_id, f"Step '{c.step_name}' failed: {failure.message}", outbox)


def next_retry(policy: RetryPolicy, attempt_number: int, max_attempts: int) -> float | None:
    """Seconds until the next attempt, or None when attempts are exhausted (pure)."""
    if attempt_number >= max_attempts:
        return None
    return policy.delay(attempt_number)


def _add_job_cost(conn: psycopg.Connection[Any], job_id: uuid.UUID, cost: Decimal) -> None:
    if cost:
        conn.execute("UPDATE jobs SET total_cost = total_cost + %s WHERE id = %s", (cost, job_id))


def _summary(output: Any, limit: int = 2000) -> Any:
    """Event payloads carry small outputs whole and large ones as a note."""
    text = json.dumps(output, default=str)
    if len(text) <= limit:
        return output
    return {"truncated": True, "size_bytes": len(text)}


def find_ref(conn: psycopg.Connection[Any], attempt_id: uuid.UUID) -> AttemptRef:
    """The queue message of an attempt, rebuilt from its row; LookupError when it is gone."""
    row = conn.execute(
        "SELECT step_id, job_id FROM step_attempts WHERE id = %s", (attempt_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"attempt {attempt_id} does not exist")
    return AttemptRef(attempt_id, row["step_id"], row["job_id"])


def claim_from_row(attempt: ExpiredAttempt) -> Claim:
    """A Claim rebuilt from an attempt row, for the reaper's lost-attempt path."""
    return Claim(
        attempt_id=attempt.id,
        job_id=attempt.job_id,
        step_id=attempt.step_id,
        workspace_id=attempt.workspace_id,
        step_key=attempt.step_key,
        step_name=attempt.step_name,
        attempt_number=attempt.attempt_number,
        lease_token=attempt.lease_token,
        action="",
        params={},
        input={},
        upstream={},
        timeout_seconds=None,
    )
