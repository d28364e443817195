"""Pre-flight checks (the run cookbook's, as one call): is everything a run needs in place,
and is anything stuck? Each check has a verdict: ok, warn or fail."""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from rq.worker.base import BaseWorker

from backend import migrations
from backend.jobs.states import A, J, sql_list, sql_literal
from backend.queue import starting_workers, step_queue
from backend.settings import get_settings

OK, WARN, FAIL = "ok", "warn", "fail"
QUEUE_BACKLOG_WARN = 1000
REAPER_SILENT = 60.0  # seconds without a reaper pass before expired leases count as stuck


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
    connection); Redis may not, and the checks that need it then say so. No check fails on
    timing alone: a worker still starting, or a lease the reaper has not had a pass to recover
    yet, is a warning."""
    checks = [Check("database", OK, "PostgreSQL answers"), _migrations(), _redis(redis)]
    health = worker_health(redis) if checks[-1].verdict == OK else None
    if health is not None:
        checks += [_workers(health), _queue(health)]
    reaper = last_reaper_pass(conn)
    checks += [
        _stuck(conn, workspace_id, reaper),
        _pending(conn, workspace_id, health),
        _reaper(_own_recovery(conn, workspace_id, reaper)),
        _failures(conn, workspace_id),
    ]
    return [asdict(c) for c in checks]


@dataclass(frozen=True)
class WorkerHealth:
    """The rq workers of the step queue as doctor and pre-flight judge them."""

    queue: str
    depth: int
    configured: int
    live: list[dict[str, Any]]
    dead: list[dict[str, Any]]
    starting: list[dict[str, Any]]


def worker_health(redis: Redis) -> WorkerHealth:
    """Registered workers split into live and dead (a worker of this host whose process is
    gone), and the starts announced but not registered yet."""
    queue = step_queue(redis)
    listing = [_describe(w) for w in Worker.all(queue=queue)]
    return WorkerHealth(
        queue=queue.name,
        depth=queue.count,
        configured=get_settings().workers,
        live=[w for w in listing if not w["dead"]],
        dead=[w for w in listing if w["dead"]],
        starting=starting_workers(redis),
    )


def _describe(w: BaseWorker) -> dict[str, Any]:
    return {
        "name": w.name,
        "state": str(w.get_state()),
        "queues": w.queue_names(),
        "hostname": w.hostname,
        "pid": w.pid,
        "last_heartbeat": w.last_heartbeat.isoformat() if w.last_heartbeat else None,
        "dead": _process_gone(w.hostname, w.pid),
    }


def _process_gone(hostname: str | None, pid: int | None) -> bool:
    """True only when certain: the worker ran on this host and its process no longer exists.
    (Workers of other hosts vanish from rq's registry when their key expires.)"""
    if not pid or hostname != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _zombie(pid)


def _zombie(pid: int) -> bool:
    """A process that has exited but was not reaped yet (a killed worker group's children
    wait for init to reap them): gone, although signal 0 still reaches it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


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


def _workers(h: WorkerHealth) -> Check:
    data = {
        "configured": h.configured,
        "workers": h.live,
        "dead": h.dead,
        "starting": h.starting,
    }
    live, wanted = len(h.live), h.configured
    if h.dead:
        names = ", ".join(f"{w['name']} (pid {w['pid']})" for w in h.dead)
        return Check(
            "workers",
            FAIL,
            f"{len(h.dead)} dead worker(s) on queue {h.queue}: {names}: their process is gone; "
            f"{live} of {wanted} configured alive",
            data,
        )
    if live >= wanted:
        return Check("workers", OK, f"{live} of {wanted} worker(s) alive on queue {h.queue}", data)
    if h.starting:
        since = min(s["since"] for s in h.starting)
        return Check(
            "workers",
            WARN,
            f"{live} of {wanted} worker(s) registered on queue {h.queue}; "
            f"{sum(s['count'] for s in h.starting)} starting for {time.time() - since:.0f} s",
            data,
        )
    if not live:
        return Check(
            "workers",
            FAIL,
            f"no worker listens on queue {h.queue} ({wanted} configured): run `jobmonitor worker`",
            data,
        )
    return Check(
        "workers",
        FAIL,
        f"{live} of {wanted} configured worker(s) on queue {h.queue}: {wanted - live} missing; "
        "start them with `jobmonitor worker` (or set JOBMONITOR_WORKERS to the intended count)",
        data,
    )


def _queue(h: WorkerHealth) -> Check:
    verdict = WARN if h.depth >= QUEUE_BACKLOG_WARN or (h.depth and not h.live) else OK
    return Check("queue", verdict, f"{h.depth} attempt(s) waiting on {h.queue}", {"depth": h.depth})


def _stuck(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, reaper: dict[str, Any] | None
) -> Check:
    """Running attempts with an expired lease. Stuck (fail) once a reaper pass began after the
    lease expired and left it running, or when no reaper has passed for REAPER_SILENT seconds;
    until then the reaper has simply not had its turn (warn)."""
    rows = conn.execute(
        f"""
        SELECT a.id, a.job_id, a.step_key, a.worker_name,
               EXTRACT(EPOCH FROM now() - a.lease_expires_at)::float AS expired_for,
               a.lease_expires_at < %s::timestamptz AS reaper_passed
        FROM step_attempts a
        WHERE a.status = {sql_literal(A.RUNNING)} AND a.lease_expires_at < now() AND a.workspace_id = %s
        ORDER BY a.lease_expires_at LIMIT 20
        """,
        (reaper["last_pass_at"] if reaper else None, workspace_id),
    ).fetchall()
    if not rows:
        return Check("stuck attempts", OK, "no running attempt has an expired lease")
    stuck = [{**r, "id": str(r["id"]), "job_id": str(r["job_id"])} for r in rows]
    silent = reaper is None or reaper["silent_for"] > REAPER_SILENT
    if silent or any(r["reaper_passed"] for r in rows):
        return Check(
            "stuck attempts",
            FAIL,
            f"{len(rows)} running attempt(s) with an expired lease that no reaper pass recovered: "
            "is `jobmonitor reaper` running?",
            {"attempts": stuck},
        )
    return Check(
        "stuck attempts",
        WARN,
        f"{len(rows)} running attempt(s) with an expired lease, for the reaper's next pass",
        {"attempts": stuck},
    )


def _pending(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, health: WorkerHealth | None
) -> Check:
    rows = conn.execute(
        f"""
        SELECT w.name, c.n FROM job_counts c JOIN workflows w ON w.id = c.workflow_id
        WHERE c.workspace_id = %s AND c.status = {sql_literal(J.PENDING)} AND c.n > 0 ORDER BY c.n DESC
        """,
        (workspace_id,),
    ).fetchall()
    per_workflow = {r["name"]: int(r["n"]) for r in rows}
    total = sum(per_workflow.values())
    data = {"by_workflow": per_workflow}
    if total and health is not None and not health.live:
        verdict = WARN if health.starting else FAIL
        return Check(
            "pending jobs",
            verdict,
            f"{total} job(s) pending and no worker on their queue {health.queue}"
            + (" yet (workers starting)" if health.starting else ": run `jobmonitor worker`"),
            data,
        )
    return Check("pending jobs", OK, f"{total} job(s) pending", data)


def last_reaper_pass(conn: psycopg.Connection[Any]) -> dict[str, Any] | None:
    """The most recent reaper pass (any reaper), with the latest recovery any reaper made."""
    return conn.execute(
        """
        SELECT reaper, last_pass_at, passes,
               EXTRACT(EPOCH FROM now() - last_pass_at)::float AS silent_for,
               (SELECT sum(recovered_total) FROM reaper_passes)::bigint AS recovered_total,
               (SELECT last_recovery_at FROM reaper_passes WHERE last_recovery_at IS NOT NULL
                ORDER BY last_recovery_at DESC LIMIT 1) AS last_recovery_at,
               (SELECT last_recovered FROM reaper_passes WHERE last_recovery_at IS NOT NULL
                ORDER BY last_recovery_at DESC LIMIT 1) AS last_recovered
        FROM reaper_passes ORDER BY last_pass_at DESC LIMIT 1
        """
    ).fetchone()


def _own_recovery(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, reaper: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The reaper's record with only this workspace's ids (the counts are the whole pass's):
    lost and re-enqueued attempts, and steps whose retry it started."""
    if reaper is None or not reaper["last_recovered"]:
        return reaper
    recovered = reaper["last_recovered"]
    ids = [i for kind in ("lost", "requeued", "retried") for i in recovered.get(kind, [])]
    own = {
        str(r["id"])
        for r in conn.execute(
            """
            SELECT id FROM step_attempts WHERE id = ANY(%(ids)s::uuid[]) AND workspace_id = %(ws)s
            UNION ALL
            SELECT id FROM job_steps WHERE id = ANY(%(ids)s::uuid[]) AND workspace_id = %(ws)s
            """,
            {"ids": ids, "ws": workspace_id},
        )
    }
    mine = {
        k: [i for i in recovered.get(k, []) if i in own] for k in ("lost", "requeued", "retried")
    }
    return {**reaper, "last_recovered": {**recovered, **mine}}


def _reaper(reaper: dict[str, Any] | None) -> Check:
    if reaper is None:
        return Check("reaper", WARN, "no reaper pass recorded: run `jobmonitor reaper`")
    data = {
        **reaper,
        "last_pass_at": reaper["last_pass_at"].isoformat(),
        "last_recovery_at": reaper["last_recovery_at"].isoformat()
        if reaper["last_recovery_at"]
        else None,
    }
    recovered = reaper["last_recovered"]
    what = (
        "nothing recovered yet"
        if not recovered
        else "last recovery: "
        + ", ".join(f"{n} {kind}" for kind, n in recovered["counts"].items() if n)
    )
    detail = (
        f"last pass {reaper['silent_for']:.0f} s ago by {reaper['reaper']}; "
        f"{reaper['recovered_total']} item(s) recovered in all; {what}"
    )
    if reaper["silent_for"] > REAPER_SILENT:
        return Check("reaper", WARN, f"{detail}; no pass for a while: is it running?", data)
    return Check("reaper", OK, detail, data)


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
