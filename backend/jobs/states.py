"""The state machine of jobs, steps and attempts: the only code that changes a `status`.

`transition()` is one SQL statement: a conditional update (`WHERE status = ANY(allowed_from)`,
optionally fenced by a lease token) plus the `job_events` row that records it. It returns the
updated row, or None when the row was not in an allowed state (someone else won the race).
The caller owns the transaction; publishing the event happens after its commit.

Its options are a closed set: the columns a kind may set besides its status (`SETTABLE`), each
to a plain value or to one of the column values below (`Now`, `NowIfUnset`, `NowPlus`,
`Elapsed`, `Increase`), a lease `fence`, and the reaper's `lease_expired` guard. Every runtime
value is a bound parameter, so a statement's text depends only on its shape (the server
reuses its prepared plan, and the statement cache stays small).

Terminal states stay terminal. The one way out of a terminal job or step status is the
operator's `resume`, which moves failed/cancelled (and timed out) back to pending; skipped
never changes again, completed only for a person's new execution of a `repeatable` manual
step (completed -> queued, a new attempt), and attempts never leave a terminal status.

Who moves what (every call of `transition`/`send_transition`):

    kind     from -> to                                   module      function
    job      pending -> running                           attempts    claim (the job's first claim)
    job      pending|running -> completed                 scheduler   _conclude (every step done)
    job      pending|running -> failed                    scheduler   fail_job (a step failed)
    job      pending|running -> cancelled                 service     cancel_job (operator, force)
    job      failed|cancelled -> pending                  service     resume_job (operator)
    step     pending|retrying -> queued                   scheduler   new_attempt (ready, retry)
    step     pending -> waiting                           scheduler   _wait (manual step, gate)
    step     waiting|completed -> queued                  human       execute_step, submit
    step     waiting -> pending                           human       _reset_downstream
    step     queued -> running                            attempts    claim
    step     running -> completed                         attempts    finish_success
    step     running -> retrying                          attempts    _after_failure (budget left)
    step     running -> failed|timed_out                  attempts    _after_failure (no budget)
    step     pending -> skipped                           scheduler   _skip (condition false)
    step     pending -> failed                            scheduler   _fail_condition
    step     pending|waiting|queued|running|retrying -> cancelled
                                                          scheduler   stop_steps (job ended)
    step     failed|timed_out|cancelled -> pending        service     resume_job
    attempt  queued -> running                            attempts    claim (with the lease)
    attempt  running -> completed                         attempts    finish_success (fenced)
    attempt  running -> failed|timed_out|lost             attempts    finish_failure (fenced;
                                                                      reaper: lease_expired)
    attempt  queued|running -> cancelled                  scheduler   stop_steps

Lock order. Every engine transaction takes row locks in this order, so that two of them
never wait for each other in a cycle:

    1. the workflow (`lock_workflow`: creates and forced starts of one workflow are serial);
    2. job rows, by id when there are several (`get_job(lock=True)`, the job transitions);
    3. the workflow's `job_counts` rows, in status order (the trigger on jobs.status takes
       them; a transaction that changes the status of several jobs takes them all first,
       `queries.lock_job_counts`);
    4. step rows, in step_index order (`transition(Kind.STEP)`, `stop_steps`);
    5. attempt rows.

A claim in a running job takes no job lock (4, 5 only); a claim that starts its job takes it
first (2, 3 by the trigger, 4, 5). PostgreSQL may still pick a victim among transactions
that wait on each other's rows in ways the order does not cover (index pages, the events
table's foreign keys), so the worker's and the reaper's transactions are retried a bounded
number of times on a deadlock or serialization failure (`backend.db.retry_conflicts`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypedDict, Unpack

import psycopg
from psycopg.types.json import Jsonb

from backend.jobs.statuses import (  # noqa: F401  (re-exported: the state machine's vocabulary)
    ATTEMPT_TERMINAL,
    JOB_RESUMABLE,
    JOB_TERMINAL,
    STEP_RESUMABLE,
    STEP_TERMINAL,
    A,
    AttemptStatus,
    J,
    JobStatus,
    Kind,
    S,
    StepStatus,
)

Status = JobStatus | StepStatus | AttemptStatus

# target status -> the statuses it may be reached from
ALLOWED: dict[Kind, dict[str, frozenset[str]]] = {
    Kind.JOB: {
        J.PENDING: JOB_RESUMABLE,
        J.RUNNING: frozenset({J.PENDING}),
        J.COMPLETED: frozenset({J.PENDING, J.RUNNING}),
        J.FAILED: frozenset({J.PENDING, J.RUNNING}),
        J.CANCELLED: frozenset({J.PENDING, J.RUNNING}),
    },
    Kind.STEP: {
        S.PENDING: STEP_RESUMABLE | {S.WAITING},
        S.WAITING: frozenset({S.PENDING}),
        S.QUEUED: frozenset({S.PENDING, S.RETRYING, S.WAITING, S.COMPLETED}),
        S.RUNNING: frozenset({S.QUEUED}),
        S.RETRYING: frozenset({S.RUNNING}),
        S.COMPLETED: frozenset({S.RUNNING}),
        S.FAILED: frozenset({S.RUNNING, S.PENDING}),  # from pending: its condition broke
        S.TIMED_OUT: frozenset({S.RUNNING}),
        S.SKIPPED: frozenset({S.PENDING}),
        S.CANCELLED: frozenset({S.PENDING, S.WAITING, S.QUEUED, S.RUNNING, S.RETRYING}),
    },
    Kind.ATTEMPT: {
        A.RUNNING: frozenset({A.QUEUED}),
        A.COMPLETED: frozenset({A.RUNNING}),
        A.FAILED: frozenset({A.RUNNING}),
        A.TIMED_OUT: frozenset({A.RUNNING}),
        A.LOST: frozenset({A.RUNNING}),
        A.CANCELLED: frozenset({A.QUEUED, A.RUNNING}),
    },
}

STATUSES: dict[Kind, type[StrEnum]] = {Kind.JOB: J, Kind.STEP: S, Kind.ATTEMPT: A}

# the columns a transition may set besides `status` and `updated_at`
SETTABLE: dict[Kind, frozenset[str]] = {
    Kind.JOB: frozenset(
        {"started_at", "completed_at", "current_step", "error_message", "output_payload"}
    ),
    Kind.STEP: frozenset(
        {
            "started_at",
            "completed_at",
            "duration_seconds",
            "attempt_count",
            "max_attempts",
            "input_data",
            "next_attempt_at",
            "output_data",
            "progress",
            "cost_usd",
            "error_message",
            "error_type",
        }
    ),
    Kind.ATTEMPT: frozenset(
        {
            "worker_name",
            "pid",
            "lease_token",
            "lease_expires_at",
            "heartbeat_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "cost_usd",
            "error_type",
            "error_message",
            "traceback",
        }
    ),
}

# event type written for reaching a status (the timeline's names where it has one)
EVENT_TYPES: dict[Kind, dict[str, str]] = {
    Kind.JOB: {
        J.PENDING: "workflow_resumed",
        J.RUNNING: "workflow_started",
        J.COMPLETED: "workflow_completed",
        J.FAILED: "workflow_failed",
        J.CANCELLED: "cancelled",
    },
    Kind.STEP: {
        S.PENDING: "step_reset",
        S.QUEUED: "step_queued",
        S.WAITING: "step_waiting",
        S.RUNNING: "step_started",
        S.RETRYING: "retrying",
        S.COMPLETED: "step_completed",
        S.FAILED: "step_failed",
        S.TIMED_OUT: "step_failed",
        S.SKIPPED: "step_skipped",
        S.CANCELLED: "step_cancelled",
    },
    Kind.ATTEMPT: {A.LOST: "attempt_lost"},
}

_TABLES = {Kind.JOB: "jobs", Kind.STEP: "job_steps", Kind.ATTEMPT: "step_attempts"}

# how each table names the columns an event needs
_EVENT_SOURCE = {
    Kind.JOB: "u.workspace_id, u.id, u.workflow_id, NULL::text, NULL::uuid",
    Kind.STEP: "u.workspace_id, u.job_id, j.workflow_id, u.step_key, %(attempt_id)s::uuid",
    Kind.ATTEMPT: "u.workspace_id, u.job_id, j.workflow_id, u.step_key, u.id",
}


# what a transition returns: the columns callers and events use, never the payloads (a
# step's output can be large, and parsing it back on every transition is waste)
_RETURNING = {
    Kind.JOB: "id, workspace_id, workflow_id, status, created_at, started_at, completed_at",
    Kind.STEP: (
        "id, job_id, workspace_id, step_key, step_index, name, action, params, status, attempt_count,"
        " max_attempts, timeout_seconds, duration_seconds, started_at, completed_at"
    ),
    Kind.ATTEMPT: (
        "id, job_id, step_id, workspace_id, step_key, attempt_number, status, lease_token,"
        " duration_seconds, started_at, finished_at"
    ),
}

# steps and attempts that have just finished carry their duration in the event
_EVENT_DATA = {
    Kind.JOB: "%(data)s",
    Kind.STEP: "%(data)s || jsonb_strip_nulls(jsonb_build_object('duration_seconds', u.duration_seconds))",
    Kind.ATTEMPT: "%(data)s || jsonb_strip_nulls(jsonb_build_object('duration_seconds', u.duration_seconds))",
}


# --- column values: the closed set of what a transition may write besides plain values ---


@dataclass(frozen=True)
class Now:
    """The transaction's time: `now()`."""


@dataclass(frozen=True)
class NowIfUnset:
    """`coalesce(column, now())`: the first start keeps its time."""


@dataclass(frozen=True)
class NowPlus:
    """`now() + seconds` (a lease's expiry, a retry's due time)."""

    seconds: float


@dataclass(frozen=True)
class Elapsed:
    """Seconds since the row's `started_at`."""


@dataclass(frozen=True)
class Increase:
    """`column + amount` (costs add up over attempts)."""

    amount: Decimal


ColumnValue = Now | NowIfUnset | NowPlus | Elapsed | Increase

# each column value's SQL: `{c}` is the column, `{p}` its bound parameter (a plain value: `{p}`)
_EXPRESSIONS: dict[type, str] = {
    Now: "now()",
    NowIfUnset: "coalesce({c}, now())",
    NowPlus: "now() + make_interval(secs => {p})",
    Elapsed: "EXTRACT(EPOCH FROM now() - started_at)",
    Increase: "{c} + {p}",
}


def finished(column: str = "finished_at") -> dict[str, ColumnValue]:
    """The end time and the duration of a step (`completed_at`) or an attempt."""
    return {column: Now(), "duration_seconds": Elapsed()}


def is_allowed(kind: Kind, from_status: str, to_status: str) -> bool:
    return from_status in ALLOWED[kind].get(to_status, frozenset())


def sql_literal(status: Status) -> str:
    """A status as an SQL literal, for statement texts built once at import time (read-side
    filters that partial indexes must match literally)."""
    return _literal(status)


def sql_list(*statuses: Status) -> str:
    """Statuses as an SQL list of literals: `('completed', 'skipped')`."""
    return "(" + ", ".join(_literal(s) for s in sorted(statuses)) + ")"


@dataclass(frozen=True)
class Transitioned:
    row: dict[str, Any]
    from_status: str
    event: dict[str, Any] | None


class Pending:
    """A transition sent to the server whose result is read later, so that several statements
    travel in one round trip under `conn.pipeline()`."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def result(self) -> Transitioned | None:
        row = self._cursor.fetchone()
        if row is None:
            return None
        record = dict(row)
        from_status = record.pop("_from_status")
        event = record.pop("_event")
        return Transitioned(row=record, from_status=from_status, event=event)


class TransitionOptions(TypedDict, total=False):
    allowed_from: frozenset[str] | None
    sets: Mapping[str, Any] | None
    fence: uuid.UUID | None
    lease_expired: bool
    event_data: dict[str, Any] | None
    attempt_id: uuid.UUID | None


def transition(
    conn: psycopg.Connection[Any],
    kind: Kind,
    row_id: uuid.UUID,
    to: Status,
    **options: Unpack[TransitionOptions],
) -> Transitioned | None:
    """Move one row to `to` if its status is in `allowed_from` (default: every status `ALLOWED`
    permits) and, when `fence` is given, if it still holds that lease token; with
    `lease_expired`, only if its lease has expired (the reaper's guard against a late beat).

    `sets` maps columns of `SETTABLE[kind]` to plain values or column values (`Now()`...);
    `event_data` goes into the event, `attempt_id` names the attempt a step event is about.
    Returns the new row, or None when nothing matched.
    """
    return send_transition(conn, kind, row_id, to, **options).result()


def send_transition(
    conn: psycopg.Connection[Any],
    kind: Kind,
    row_id: uuid.UUID,
    to: Status,
    *,
    allowed_from: frozenset[str] | None = None,
    sets: Mapping[str, Any] | None = None,
    fence: uuid.UUID | None = None,
    lease_expired: bool = False,
    event_data: dict[str, Any] | None = None,
    attempt_id: uuid.UUID | None = None,
) -> Pending:
    """`transition()` without waiting for its result (see Pending)."""
    permitted = ALLOWED[kind].get(to, frozenset())
    sources = permitted if allowed_from is None else allowed_from & permitted
    if not sources:
        raise ValueError(f"no transition to {kind} {to!r} from {sorted(allowed_from or [])}")
    values = dict(sets or {})
    _check_columns(kind, values)
    event_type = EVENT_TYPES[kind].get(to)
    templates = {column: _EXPRESSIONS.get(type(value), "{p}") for column, value in values.items()}
    params: dict[str, Any] = {"id": row_id}
    for column, value in values.items():
        if "{p}" in templates[column]:
            params[f"s_{column}"] = _bound(value)
    if fence is not None:
        params["fence"] = fence
    if event_type is not None:
        params["data"] = Jsonb(event_data or {})
        if kind is Kind.STEP:
            params["attempt_id"] = attempt_id
    shape = (str(to), tuple(sorted(str(s) for s in sources)), event_type)
    query = _transition_sql(
        kind, shape, fence is not None, lease_expired, tuple(sorted(templates.items()))
    )
    return Pending(conn.execute(query, params))


def _check_columns(kind: Kind, values: Mapping[str, Any]) -> None:
    unknown = sorted(set(values) - SETTABLE[kind])
    if unknown:
        raise ValueError(f"a {kind} transition may not set {unknown}")


def _bound(value: Any) -> Any:
    if isinstance(value, NowPlus):
        return float(value.seconds)
    if isinstance(value, Increase):
        return value.amount
    return value


@functools.lru_cache(maxsize=256)
def _transition_sql(
    kind: Kind,
    shape: tuple[str, tuple[str, ...], str | None],
    fenced: bool,
    lease_expired: bool,
    columns: tuple[tuple[str, str], ...],
) -> str:
    """The statement text, built once per shape (`columns`: each set column's template, never
    its value): the same text every time lets the server reuse its prepared plan. The
    statuses and the event type are our own constants, written into the text (fewer
    parameters to adapt on every call); every value is a parameter."""
    to, sources, event_type = shape
    assignments = [f"status = {_literal(to)}", "updated_at = now()"]
    for column, template in columns:
        expression = template.format(c=_ident(column), p=f"%(s_{column})s")
        assignments.append(f"{_ident(column)} = {expression}")
    conditions = " AND lease_token = %(fence)s" if fenced else ""
    if lease_expired:
        conditions += " AND lease_expires_at < now()"
    table = _TABLES[kind]
    event_cte, event_column = "", "NULL::jsonb"
    if event_type is not None:
        join_job = "" if kind is Kind.JOB else " JOIN jobs j ON j.id = u.job_id"
        event_cte = f""",
        ev AS (
            INSERT INTO job_events
                (workspace_id, job_id, workflow_id, step_key, attempt_id,
                 type, from_status, to_status, data)
            SELECT {_EVENT_SOURCE[kind]}, {_literal(event_type)}, u._from_status, u.status, {_EVENT_DATA[kind]}
            FROM u{join_job}
            RETURNING *
        )"""
        event_column = "(SELECT to_jsonb(ev) FROM ev)"
    return f"""
        WITH prev AS (
            SELECT id, status FROM {table}
            WHERE id = %(id)s AND status IN ({", ".join(_literal(x) for x in sources)}){conditions}
            FOR UPDATE
        ),
        u AS (
            UPDATE {table} t SET {", ".join(assignments)}
            FROM prev WHERE t.id = prev.id
            RETURNING {", ".join(f"t.{c.strip()}" for c in _RETURNING[kind].split(","))}, prev.status AS _from_status
        ){event_cte}
        SELECT u.*, {event_column} AS _event FROM u
        """


def statement_count() -> int:
    """How many distinct transition statements this process has built (a test checks that
    runtime values never make new ones)."""
    return _transition_sql.cache_info().currsize


def _literal(value: str) -> str:
    """A status or event name as an SQL string literal (our constants only)."""
    if not value.replace("_", "").isalpha():
        raise ValueError(f"not a status or event name: {value!r}")
    return f"'{value}'"


def _ident(column: str) -> str:
    if not column.replace("_", "").isalnum():
        raise ValueError(f"not a column name: {column!r}")
    return f'"{column}"'


def record_event(
    conn: psycopg.Connection[Any],
    job_id: uuid.UUID,
    event_type: str,
    *,
    step_key: str | None = None,
    attempt_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An event that is not a status change (job created, a burst of log lines...)."""
    row = conn.execute(
        """
        WITH ev AS (
            INSERT INTO job_events (workspace_id, job_id, workflow_id, step_key, attempt_id, type, data)
            SELECT workspace_id, id, workflow_id, %s, %s, %s, %s FROM jobs WHERE id = %s
            RETURNING *
        )
        SELECT to_jsonb(ev) AS event FROM ev
        """,
        (step_key, attempt_id, event_type, Jsonb(data or {}), job_id),
    ).fetchone()
    assert row is not None, f"job {job_id} does not exist"
    return dict(row["event"] if isinstance(row, dict) else row[0])
