"""The SQL of the jobs domain, apart from the engine's per-step statements (the transitions
in states.py, the claim and the outcome in attempts.py, the scheduling in scheduler.py) and
the list page (listing.py): one job (`get_job`, the one lookup, also the engine's locked
read), storing a new job, its steps, attempts, logs and outputs, its stored events, and what
exports and metrics read. Rows are frozen types (backend/jobs/rows.py). A read scoped to a
workspace raises NotFound for another workspace's job.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from backend.errors import NotFound
from backend.jobs.rows import (
    AttemptRow,
    CostRow,
    ExecutedAttempt,
    HumanStep,
    JobRow,
    KeyedJob,
    LogLineRow,
    MetricRow,
    ResumableStep,
    StepOutput,
    StepProgress,
    StepRef,
    StepRow,
)
from backend.jobs.states import STEP_RESUMABLE, A, J, S, sql_list, sql_literal
from backend.workflows.definition import WorkflowDefinition

LEVELS = ("debug", "info", "warning", "error")

_JOB_OWN = """
    j.id, j.workspace_id, j.workflow_id, j.workflow_version_id, j.execution_number, j.status,
    j.error_message, j.progress, j.current_step, j.step_count, j.steps_done, j.total_cost,
    j.rerun_of, j.idempotency_key, j.created_at, j.started_at, j.completed_at, j.updated_at,
    j.draft_state, j.waiting_for,
    EXTRACT(EPOCH FROM coalesce(j.completed_at, now()) - j.started_at)::float AS duration_seconds
"""
_WORKFLOW_NAMES = ", w.name AS workflow_name, v.version AS workflow_version"
_NO_WORKFLOW_NAMES = ", NULL::text AS workflow_name, NULL::int AS workflow_version"
JOB_COLUMNS = _JOB_OWN + _WORKFLOW_NAMES
JOB_PAYLOADS = (
    ", j.input_payload, j.output_payload, j.state_before, j.state_after, j.delta, j.metadata"
)
JOB_JOINS = (
    "JOIN workflows w ON w.id = j.workflow_id "
    "JOIN workflow_versions v ON v.id = j.workflow_version_id"
)
_JOB_ROW = class_row(JobRow)


# --- one job --------------------------------------------------------------------------------


class JobLookup:
    """A job read sent to the server whose row is read later, so the engine's locked read
    travels in the same round trip as its other statements (under `conn.pipeline()`)."""

    def __init__(self, cursor: psycopg.Cursor[JobRow], job_id: uuid.UUID) -> None:
        self._cursor = cursor
        self._job_id = job_id

    def result(self) -> JobRow:
        row = self._cursor.fetchone()
        if row is None:
            raise NotFound(f"job {self._job_id} not found")
        return row


def send_get_job(
    conn: psycopg.Connection[Any],
    job_id: uuid.UUID,
    *,
    workspace_id: uuid.UUID | None = None,
    lock: bool = False,
    payloads: bool = True,
    names: bool = True,
) -> JobLookup:
    """`get_job()` without waiting for its row (see JobLookup)."""
    query = _job_sql(workspace_id is not None, lock, payloads, names)
    params = (job_id,) if workspace_id is None else (job_id, workspace_id)
    return JobLookup(conn.cursor(row_factory=_JOB_ROW).execute(query, params), job_id)


def get_job(
    conn: psycopg.Connection[Any],
    job_id: uuid.UUID,
    *,
    workspace_id: uuid.UUID | None = None,
    lock: bool = False,
    payloads: bool = True,
    names: bool = True,
) -> JobRow:
    """The job, or NotFound. `workspace_id` scopes the read (the API always passes it; the
    engine reads by id); `lock` takes the job's row lock (lock order everywhere: the job,
    its steps, their attempts); `payloads=False` leaves the payloads unread (they can be
    large: views that show only the status read less); `names=False` leaves the workflow's
    name and version unread (two joins the engine's per-step read does without)."""
    return send_get_job(
        conn, job_id, workspace_id=workspace_id, lock=lock, payloads=payloads, names=names
    ).result()


@functools.cache
def _job_sql(scoped: bool, lock: bool, payloads: bool, names: bool) -> str:
    """One text per option combination: the server reuses each one's plan."""
    return (
        f"SELECT {_JOB_OWN}{_WORKFLOW_NAMES if names else _NO_WORKFLOW_NAMES}"
        f"{JOB_PAYLOADS if payloads else ''} FROM jobs j {JOB_JOINS if names else ''}"
        f" WHERE j.id = %s{' AND j.workspace_id = %s' if scoped else ''}"
        f"{' FOR NO KEY UPDATE OF j' if lock else ''}"
    )


def job_by_idempotency_key(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, key: str
) -> KeyedJob | None:
    return (
        conn.cursor(row_factory=class_row(KeyedJob))
        .execute(
            "SELECT id, payload_hash FROM jobs WHERE workspace_id = %s AND idempotency_key = %s",
            (workspace_id, key),
        )
        .fetchone()
    )


# --- a new job ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewJob:
    """Where a new job belongs: workspace, workflow and version, its number, its step count."""

    workspace_id: uuid.UUID
    workflow_id: uuid.UUID
    version_id: uuid.UUID
    execution_number: int
    step_count: int
    mode: str = "global_batch"
    item_id: str | None = None
    requested_by: str | None = None


def insert_job(
    conn: psycopg.Connection[Any],
    job: NewJob,
    payload: dict[str, Any],
    digest: str,
    key: str | None,
    rerun_of: uuid.UUID | None,
    metadata: dict[str, Any] | None = None,
) -> uuid.UUID | None:
    """Store a pending job; None when a concurrent request stored one with the same key."""
    row = conn.execute(
        f"""
        INSERT INTO jobs (id, workspace_id, workflow_id, workflow_version_id, execution_number, status,
                          input_payload, idempotency_key, payload_hash, progress, step_count,
                          steps_done, rerun_of, total_cost, run_mode, item_id, requested_by,
                          metadata)
        VALUES (%s, %s, %s, %s, %s, {sql_literal(J.PENDING)}, %s, %s, %s, 0, %s, 0, %s, 0, %s, %s, %s,
                %s)
        ON CONFLICT (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id
        """,
        (
            uuid.uuid4(),
            job.workspace_id,
            job.workflow_id,
            job.version_id,
            job.execution_number,
            Jsonb(payload),
            key,
            digest,
            job.step_count,
            rerun_of,
            job.mode,
            job.item_id,
            job.requested_by,
            Jsonb(metadata or {}),
        ),
    ).fetchone()
    return None if row is None else row["id"]


def insert_steps(
    conn: psycopg.Connection[Any],
    job_id: uuid.UUID,
    workspace_id: uuid.UUID,
    definition: WorkflowDefinition,
    skip: frozenset[str] = frozenset(),
) -> None:
    """The job's steps, pending, in execution order (one batch); `skip` names steps stored
    otherwise (`insert_reused_steps`)."""
    rows = [
        (
            uuid.uuid4(),
            job_id,
            workspace_id,
            s.key,
            index,
            s.title,
            s.effective_action,
            Jsonb(s.params),
            Jsonb(s.depends_on),
            s.condition,
            Jsonb(s.retry.model_dump()),
            s.timeout_seconds,
            s.retry.max_attempts,
            s.run,
            s.auto_when,
        )
        for index, s in enumerate(definition.order(), start=1)
        if s.key not in skip
    ]
    with conn.cursor() as cur:
        cur.executemany(_INSERT_STEP_SQL, rows)


def insert_reused_steps(
    conn: psycopg.Connection[Any], job_id: uuid.UUID, source_job_id: uuid.UUID, keys: list[str]
) -> None:
    """Steps of a from-step re-run copied from the job it re-runs (same workflow version): the
    source's status, output and times, no attempts and no cost, linked to where they came
    from. A new row is created in its final status; no transition is involved."""
    conn.execute(
        """
        INSERT INTO job_steps (id, job_id, workspace_id, step_key, step_index, name, action,
                               params, depends_on, condition, retry, timeout_seconds,
                               max_attempts, status, input_data, output_data, attempt_count,
                               progress, cost_usd, started_at, completed_at, duration_seconds,
                               reused_from_job_id, reused_from_step_id)
        SELECT gen_random_uuid(), %s, o.workspace_id, o.step_key, o.step_index, o.name, o.action,
               o.params, o.depends_on, o.condition, o.retry, o.timeout_seconds, o.max_attempts,
               o.status, o.input_data, o.output_data, 0, o.progress, 0, o.started_at,
               o.completed_at, o.duration_seconds, o.job_id, o.id
        FROM job_steps o WHERE o.job_id = %s AND o.step_key = ANY(%s)
        """,
        (job_id, source_job_id, keys),
    )


_INSERT_STEP_SQL = f"""
    INSERT INTO job_steps (id, job_id, workspace_id, step_key, step_index, name, action, params,
                           depends_on, condition, retry, timeout_seconds, max_attempts, run,
                           auto_when, status, attempt_count, progress, cost_usd)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, {sql_literal(S.PENDING)}, 0, 0, 0)
"""


def active_job_ids(
    conn: psycopg.Connection[Any], workflow_id: uuid.UUID, mode: str = "global_batch"
) -> list[uuid.UUID]:
    """The workflow's pending and running jobs of one run mode, oldest first."""
    rows = conn.execute(
        f"SELECT id FROM jobs WHERE workflow_id = %s AND status IN {sql_list(J.PENDING, J.RUNNING)}"
        " AND run_mode = %s ORDER BY created_at",
        (workflow_id, mode),
    )
    return [r["id"] for r in rows]


def lock_job_counts(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, workflow_id: uuid.UUID
) -> None:
    """Lock the workflow's status counters in status order (step 3 of the lock order in
    backend.jobs.states), before changing the status of several of its jobs."""
    conn.execute(
        "SELECT 1 FROM job_counts WHERE workspace_id = %s AND workflow_id = %s"
        " ORDER BY status FOR UPDATE",
        (workspace_id, workflow_id),
    )


def run_mode_of(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> tuple[str, str | None]:
    """A job's run mode and item."""
    row = conn.execute("SELECT run_mode, item_id FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return (row["run_mode"], row["item_id"]) if row else ("global_batch", None)


def seconds_until_start(
    conn: psycopg.Connection[Any],
    workflow_id: uuid.UUID,
    interval: float,
    mode: str = "global_batch",
) -> tuple[uuid.UUID, float] | None:
    """The workflow's newest job of the mode, and how long until `interval` seconds have passed
    since it was created (negative: they have); None when it has no such job."""
    row = conn.execute(
        "SELECT id, %s - EXTRACT(EPOCH FROM now() - created_at)::float AS wait"
        " FROM jobs WHERE workflow_id = %s AND run_mode = %s ORDER BY created_at DESC LIMIT 1",
        (interval, workflow_id, mode),
    ).fetchone()
    return None if row is None else (row["id"], float(row["wait"]))


def resumable_steps(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> list[ResumableStep]:
    """The job's failed, timed out and cancelled steps."""
    return (
        conn.cursor(row_factory=class_row(ResumableStep))
        .execute(
            "SELECT id, name, retry, attempt_count FROM job_steps"
            " WHERE job_id = %s AND status = ANY(%s)",
            (job_id, sorted(str(s) for s in STEP_RESUMABLE)),
        )
        .fetchall()
    )


# --- its steps ------------------------------------------------------------------------------


# a step's duration, the same everywhere: from its recorded times (counting up until it ends)
STEP_DURATION = "EXTRACT(EPOCH FROM coalesce(s.completed_at, now()) - s.started_at)::float"


def list_steps(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID
) -> list[StepRow]:
    rows = (
        conn.cursor(row_factory=class_row(StepRow))
        .execute(
            f"""
            SELECT s.id, s.job_id, j.workflow_id, s.step_key, s.step_index, s.name, s.action,
                   s.status, s.params, s.depends_on, s.condition, s.input_data, s.output_data,
                   s.error_message, s.error_type, s.attempt_count AS attempt_number,
                   s.max_attempts, s.progress, s.cost_usd, s.next_attempt_at, s.started_at,
                   s.completed_at, {STEP_DURATION} AS duration_seconds, s.run,
                   s.reused_from_job_id, s.reused_from_step_id
            FROM job_steps s JOIN jobs j ON j.id = s.job_id
            WHERE s.job_id = %s AND s.workspace_id = %s ORDER BY s.step_index
            """,
            (job_id, workspace_id),
        )
        .fetchall()
    )
    if not rows:
        get_job(conn, job_id, workspace_id=workspace_id, payloads=False)  # NotFound, or no steps
    return rows


def step_progress(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID
) -> list[StepProgress]:
    """Each step's status and progress, in order, without outputs (the status view)."""
    return (
        conn.cursor(row_factory=class_row(StepProgress))
        .execute(
            "SELECT step_key, name, status, progress FROM job_steps"
            " WHERE job_id = %s AND workspace_id = %s ORDER BY step_index",
            (job_id, workspace_id),
        )
        .fetchall()
    )


def find_step(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID, step: str
) -> StepRef:
    """The job's step by key; NotFound (naming the job's steps) when it has none of that key."""
    row = (
        conn.cursor(row_factory=class_row(StepRef))
        .execute(
            "SELECT id, step_key, name, status FROM job_steps"
            " WHERE job_id = %s AND workspace_id = %s AND step_key = %s",
            (job_id, workspace_id, step),
        )
        .fetchone()
    )
    if row is None:
        get_job(conn, job_id, workspace_id=workspace_id, payloads=False)
        keys = [
            r["step_key"]
            for r in conn.execute(
                "SELECT step_key FROM job_steps WHERE job_id = %s ORDER BY step_index", (job_id,)
            )
        ]
        raise NotFound(f"job {job_id} has no step {step!r}", {"steps": keys})
    return row


def step_output(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID, step: str | None
) -> StepOutput:
    """A step's output by key (default: the job's last step); NotFound as `find_step`."""
    if step is None:
        get_job(conn, job_id, workspace_id=workspace_id, payloads=False)
        last = conn.execute(
            "SELECT step_key FROM job_steps WHERE job_id = %s ORDER BY step_index DESC LIMIT 1",
            (job_id,),
        ).fetchone()
        step = last["step_key"] if last else ""
    found = find_step(conn, workspace_id, job_id, step)
    row = conn.execute("SELECT output_data FROM job_steps WHERE id = %s", (found.id,)).fetchone()
    return StepOutput(found.step_key, row["output_data"] if row else None)


def human_steps(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> list[HumanStep]:
    """The job's steps in order, as executing one on demand reads them (the caller holds the
    job lock)."""
    return (
        conn.cursor(row_factory=class_row(HumanStep))
        .execute(
            """
            SELECT id, step_key, name, status, run, attempt_count, timeout_seconds, depends_on,
                   output_data, error_message
            FROM job_steps WHERE job_id = %s ORDER BY step_index
            """,
            (job_id,),
        )
        .fetchall()
    )


def executed_attempt(
    conn: psycopg.Connection[Any],
    step_id: uuid.UUID,
    key: str | None = None,
    number: int | None = None,
) -> ExecutedAttempt | None:
    """The step's attempt an execution with this idempotency key started, or its attempt of
    this number."""
    return (
        conn.cursor(row_factory=class_row(ExecutedAttempt))
        .execute(
            "SELECT id, attempt_number, payload_hash FROM step_attempts WHERE step_id = %s"
            " AND (%s::text IS NULL OR idempotency_key = %s)"
            " AND (%s::int IS NULL OR attempt_number = %s)",
            (step_id, key, key, number, number),
        )
        .fetchone()
    )


def step_attempts(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID, step: str
) -> tuple[StepRef, list[AttemptRow]]:
    """A step's retry history: every attempt with the costs and metrics it reported."""
    s = find_step(conn, workspace_id, job_id, step)
    costs: dict[uuid.UUID, list[CostRow]] = {}
    for c in (
        conn.cursor(row_factory=class_row(CostRow))
        .execute(
            """
            SELECT attempt_id, kind, provider, model, tokens_in, tokens_out, amount_usd, created_at
            FROM step_costs WHERE job_id = %s AND step_id = %s ORDER BY id
            """,
            (job_id, s.id),
        )
        .fetchall()
    ):
        costs.setdefault(c.attempt_id, []).append(c)
    metrics: dict[uuid.UUID, list[MetricRow]] = {}
    for m in (
        conn.cursor(row_factory=class_row(MetricRow))
        .execute(
            "SELECT attempt_id, name, value, unit, created_at FROM step_metrics"
            " WHERE job_id = %s AND step_id = %s ORDER BY id",
            (job_id, s.id),
        )
        .fetchall()
    ):
        metrics.setdefault(m.attempt_id, []).append(m)
    rows = conn.execute(
        """
        SELECT id, attempt_number, status, worker_name, pid, created_at, started_at, finished_at,
               heartbeat_at, lease_expires_at, duration_seconds, error_type, error_message,
               traceback, cost_usd
        FROM step_attempts WHERE job_id = %s AND step_id = %s ORDER BY attempt_number
        """,
        (job_id, s.id),
    ).fetchall()
    attempts = [
        AttemptRow(
            **a, costs=tuple(costs.get(a["id"], ())), metrics=tuple(metrics.get(a["id"], ()))
        )
        for a in rows
    ]
    return s, attempts


def job_logs(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    *,
    step: str | None = None,
    attempt: int | None = None,
    min_level: str | None = None,
    after_id: int = 0,
    limit: int = 200,
) -> tuple[list[LogLineRow], bool]:
    """Log lines after `after_id`, oldest first; (lines, more to read)."""
    step_id = find_step(conn, workspace_id, job_id, step).id if step is not None else None
    if step_id is None:
        get_job(conn, job_id, workspace_id=workspace_id, payloads=False)
    levels = list(LEVELS[LEVELS.index(min_level) :]) if min_level else list(LEVELS)
    rows = (
        conn.cursor(row_factory=class_row(LogLineRow))
        .execute(
            """
            SELECT l.id, s.step_key AS step_id, l.attempt_id, a.attempt_number, l.level,
                   l.message, l.created_at
            FROM step_logs l
            JOIN job_steps s ON s.id = l.step_id
            LEFT JOIN step_attempts a ON a.id = l.attempt_id
            WHERE l.job_id = %(job)s AND l.id > %(after)s
              AND (%(step)s::uuid IS NULL OR l.step_id = %(step)s)
              AND (%(attempt)s::int IS NULL OR a.attempt_number = %(attempt)s)
              AND (l.level = ANY(%(levels)s) OR NOT (l.level = ANY(%(all)s)))
            ORDER BY l.id LIMIT %(n)s
            """,
            {
                "job": job_id,
                "after": after_id,
                "step": step_id,
                "attempt": attempt,
                "levels": levels,
                "all": list(LEVELS),
                "n": limit + 1,
            },
        )
        .fetchall()
    )
    return rows[:limit], len(rows) > limit


def job_records(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> dict[str, list[Any]]:
    """Every row a job recorded, table by table, as stored (the export's raw material; the
    attempts' live lease tokens left out)."""
    queries = {
        "attempts": "SELECT * FROM step_attempts WHERE job_id = %s ORDER BY step_key, attempt_number",
        "logs": """
            SELECT l.id, s.step_key, l.attempt_id, l.level, l.message, l.created_at
            FROM step_logs l JOIN job_steps s ON s.id = l.step_id WHERE l.job_id = %s ORDER BY l.id
        """,
        "costs": "SELECT * FROM step_costs WHERE job_id = %s ORDER BY id",
        "metrics": "SELECT * FROM step_metrics WHERE job_id = %s ORDER BY id",
        "events": "SELECT * FROM job_events WHERE job_id = %s ORDER BY id",
    }
    records = {name: conn.execute(sql, (job_id,)).fetchall() for name, sql in queries.items()}
    for attempt in records["attempts"]:
        attempt.pop("lease_token", None)  # a live fencing token is nobody's business
    return records


# --- stored events ----------------------------------------------------------------------------


def read_events(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    after_id: int,
    limit: int,
    *,
    job_id: uuid.UUID | None = None,
    workflow_id: uuid.UUID | None = None,
    step_key: str | None = None,
) -> list[dict[str, Any]]:
    """Stored events after `after_id`, oldest first (one indexed range). An event is a JSON
    document (the same one the channel publishes): a step's events carry its name, and a
    completed step's its duration, in `data`."""
    rows = conn.execute(
        """
        SELECT e.id, e.workspace_id, e.job_id, e.workflow_id, e.type, e.step_key, e.attempt_id,
               e.from_status, e.to_status, e.data, e.created_at,
               s.name AS step_name, s.duration_seconds AS step_duration
        FROM job_events e
        LEFT JOIN job_steps s ON s.job_id = e.job_id AND s.step_key = e.step_key
        WHERE e.workspace_id = %(ws)s AND e.id > %(after)s
          AND (%(job)s::uuid IS NULL OR e.job_id = %(job)s)
          AND (%(wf)s::uuid IS NULL OR e.workflow_id = %(wf)s)
          AND (%(step)s::text IS NULL OR e.step_key = %(step)s)
        ORDER BY e.id LIMIT %(limit)s
        """,
        {
            "ws": workspace_id,
            "after": after_id,
            "job": job_id,
            "wf": workflow_id,
            "step": step_key,
            "limit": limit,
        },
    ).fetchall()
    for row in rows:
        data = dict(row.get("data") or {})
        name, duration = row.pop("step_name"), row.pop("step_duration")
        if row["step_key"] is not None:
            data.setdefault("step_name", name)
            if row["type"] == "step_completed":
                data.setdefault("duration_seconds", duration)
        row["data"] = data
    return rows


def latest_event_id(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> int:
    row = conn.execute(
        "SELECT coalesce(max(id), 0) AS id FROM job_events WHERE workspace_id = %s",
        (workspace_id,),
    ).fetchone()
    return int(row["id"]) if row else 0


def count_running_attempts(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> int:
    row = conn.execute(
        f"SELECT count(*) AS n FROM step_attempts WHERE status = {sql_literal(A.RUNNING)}"
        " AND workspace_id = %s",
        (workspace_id,),
    ).fetchone()
    return int(row["n"]) if row else 0
