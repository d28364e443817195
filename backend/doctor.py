"""Pre-flight checks (the run cookbook's, as one call): is everything a run needs in place,
and is anything stuck? Each check has a verdict: ok, warn or fail."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker

from backend import migrations
from backend.jobs.states import A, J, sql_list, sql_literal
from backend.queue import step_queue
from backend.settings import get_settings

OK, WARN, FAIL = "ok", "warn", "fail"
QUEUE_BACKLOG_WARN = 1000


@dataclass
class Check:
    name: str
    verdict: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


def run_checks(
    conn: psycopg.Connection[Any], redis: Redis, workspace_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Every check, in the order an operator reads them. The database answers (we hold a
    connection); Redis may not, and the checks that need it then say so."""
    checks = [Check("database", OK, "PostgreSQL answers"), _migrations(), _redis(redis)]
    if checks[-1].verdict == OK:
        checks += _workers_and_queue(redis)
    checks += [
        _stuck(conn, workspace_id),
        _pending(conn, workspace_id),
        _failures(conn, workspace_id),
    ]
    return [asdict(c) for c in checks]


def _migrations() -> Check:
    url = get_settings().require_database_url()
    current, head = migrations.current_revision(url), migrations.head_revision(url)
    if current == head:
        return Check("migrations", OK, f"at head ({head})")
    return Check(
        "migrations",
        FAIL,
        f"at {current}, head is {head}: run `jobmonitor migrate`",
        {"current": current, "head": head},
    )


def _redis(redis: Redis) -> Check:
    try:
        redis.ping()
    except (RedisError, OSError) as exc:
        return Check("redis", FAIL, f"Redis does not answer: {exc}")
    return Check("redis", OK, "Redis answers")


def _workers_and_queue(redis: Redis) -> list[Check]:
    queue = step_queue(redis)
    workers = Worker.all(queue=queue)
    depth = queue.count
    listing = [
        {
            "name": w.name,
            "state": str(w.get_state()),
            "queues": w.queue_names(),
            "last_heartbeat": w.last_heartbeat.isoformat() if w.last_heartbeat else None,
        }
        for w in workers
    ]
    if workers:
        worker_check = Check(
            "workers", OK, f"{len(workers)} worker(s) on queue {queue.name}", {"workers": listing}
        )
    else:
        worker_check = Check(
            "workers", FAIL, f"no worker listens on queue {queue.name}: run `jobmonitor worker`"
        )
    verdict = WARN if depth >= QUEUE_BACKLOG_WARN or (depth and not workers) else OK
    queue_check = Check(
        "queue", verdict, f"{depth} attempt(s) waiting on {queue.name}", {"depth": depth}
    )
    return [worker_check, queue_check]


def _stuck(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> Check:
    rows = conn.execute(
        f"""
        SELECT a.id, a.job_id, a.step_key, a.worker_name,
               EXTRACT(EPOCH FROM now() - a.lease_expires_at)::float AS expired_for
        FROM step_attempts a
        WHERE a.status = {sql_literal(A.RUNNING)} AND a.lease_expires_at < now() AND a.workspace_id = %s
        ORDER BY a.lease_expires_at LIMIT 20
        """,
        (workspace_id,),
    ).fetchall()
    if not rows:
        return Check("stuck attempts", OK, "no running attempt has an expired lease")
    stuck = [{**r, "id": str(r["id"]), "job_id": str(r["job_id"])} for r in rows]
    return Check(
        "stuck attempts",
        FAIL,
        f"{len(rows)} running attempt(s) with an expired lease: is `jobmonitor reaper` running?",
        {"attempts": stuck},
    )


def _pending(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> Check:
    rows = conn.execute(
        f"""
        SELECT w.name, c.n FROM job_counts c JOIN workflows w ON w.id = c.workflow_id
        WHERE c.workspace_id = %s AND c.status = {sql_literal(J.PENDING)} AND c.n > 0 ORDER BY c.n DESC
        """,
        (workspace_id,),
    ).fetchall()
    per_workflow = {r["name"]: int(r["n"]) for r in rows}
    total = sum(per_workflow.values())
    return Check("pending jobs", OK, f"{total} job(s) pending", {"by_workflow": per_workflow})


def _failures(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> Check:
    rows = conn.execute(
        f"""
        SELECT coalesce(error_type, 'unknown') AS error_type, count(*) AS n
        FROM step_attempts
        WHERE status IN {sql_list(A.FAILED, A.TIMED_OUT, A.LOST)} AND workspace_id = %s
          AND finished_at > now() - interval '24 hours'
        GROUP BY 1 ORDER BY n DESC
        """,
        (workspace_id,),
    ).fetchall()
    by_type = {r["error_type"]: int(r["n"]) for r in rows}
    total = sum(by_type.values())
    since = datetime.now(UTC).isoformat(timespec="seconds")
    verdict = WARN if total else OK
    return Check(
        "failures (24 h)",
        verdict,
        f"{total} failed attempt(s) in the last 24 h",
        {"by_error_type": by_type, "as_of": since},
    )
