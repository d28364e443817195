"""Operations: liveness, readiness (database and Redis reachable), Prometheus metrics and the
audit log of operator actions."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Annotated, Any

import psycopg
import psycopg_pool
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from redis.exceptions import RedisError
from rq import Worker

from backend import outages, supervision
from backend.api.errors import RETRY_AFTER_SECONDS, error_body, request_id
from backend.audit import list_audit
from backend.budgets import service as budgets
from backend.db import api_pool, ping
from backend.http.deps import Admin, Viewer, api_redis, transaction
from backend.jobs import queries
from backend.jobs.listing import count_by_status
from backend.queue import step_queue
from backend.settings import get_settings

router = APIRouter(tags=["ops"])

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
HISTOGRAM_LOOKBACK = 50_000  # events a process reads back on its first scrape of a workspace


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, dict[str, Any]]


@router.get("/healthz", response_model=Health)
def healthz() -> dict[str, str]:
    """The process answers (no dependency is checked)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"description": "The database or Redis is unreachable"}},
)
def readyz(request: Request) -> Any:
    """Ready when the database and Redis both answer (within 2 s each)."""
    checks = {"database": _check_database(), "redis": _check_redis()}
    if all(c["ok"] for c in checks.values()):
        return {"status": "ok", "checks": checks}
    down = ", ".join(name for name, c in checks.items() if not c["ok"])
    rid = request_id(request)
    body = {
        "status": "unavailable",
        "checks": checks,
        **error_body("unavailable", f"unreachable: {down}", checks, rid),
    }
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _check_database() -> dict[str, Any]:
    try:
        with api_pool().connection(timeout=2) as conn:
            ping(conn)
    except (psycopg.Error, psycopg_pool.PoolTimeout, RuntimeError) as exc:
        outages.DATABASE.failed(exc)
        return {"ok": False, "error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
    return {"ok": True}


def _check_redis() -> dict[str, Any]:
    try:
        api_redis().ping()
    except (RedisError, OSError, RuntimeError) as exc:
        outages.REDIS.failed(exc)
        return {"ok": False, "error": str(exc) or type(exc).__name__}
    outages.REDIS.recovered()
    return {"ok": True}


# --- Prometheus --------------------------------------------------------------------------


class _StepHistogram:
    """Cumulative durations of completed steps per workspace, fed incrementally from
    `job_events` (a range read of the new events at each scrape, never a table scan)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state: dict[uuid.UUID, dict[str, Any]] = {}

    def update(self, conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> dict[str, Any]:
        with self.lock:
            st = self.state.get(workspace_id)
            if st is None:
                st = {
                    "cursor": queries.event_id_back(conn, workspace_id, HISTOGRAM_LOOKBACK),
                    "counts": [0] * len(BUCKETS),
                    "sum": 0.0,
                    "count": 0,
                }
                self.state[workspace_id] = st
            for r in queries.step_durations(conn, workspace_id, st["cursor"], 100_000):
                st["cursor"] = r.event_id
                if r.duration_seconds is None:
                    continue
                st["sum"] += r.duration_seconds
                st["count"] += 1
                for i, bound in enumerate(BUCKETS):
                    if r.duration_seconds <= bound:
                        st["counts"][i] += 1
            return {"counts": list(st["counts"]), "sum": st["sum"], "count": st["count"]}


HISTOGRAM = _StepHistogram()


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@router.get(
    "/metrics", response_class=PlainTextResponse, responses={200: {"content": {"text/plain": {}}}}
)
def metrics(principal: Viewer) -> PlainTextResponse:
    """Prometheus text: jobs by status, step duration histogram, queue depth, live workers."""
    ws = _label(principal.workspace_slug)
    with transaction() as conn:
        counts = count_by_status(conn, principal.workspace_id)
        hist = HISTOGRAM.update(conn, principal.workspace_id)
        running = queries.count_running_attempts(conn, principal.workspace_id)
        spend = budgets.metric_lines(conn, principal.workspace_id, ws)
    lines = ["# HELP jobmonitor_jobs Jobs by status.", "# TYPE jobmonitor_jobs gauge"]
    lines += [f'jobmonitor_jobs{{workspace="{ws}",status="{s}"}} {n}' for s, n in counts.items()]
    lines += [
        "# HELP jobmonitor_step_duration_seconds Duration of completed steps (counted by this API process).",
        "# TYPE jobmonitor_step_duration_seconds histogram",
    ]
    lines += [
        f'jobmonitor_step_duration_seconds_bucket{{workspace="{ws}",le="{b:g}"}} {c}'
        for b, c in zip(BUCKETS, hist["counts"], strict=True)
    ]
    lines += [
        f'jobmonitor_step_duration_seconds_bucket{{workspace="{ws}",le="+Inf"}} {hist["count"]}',
        f'jobmonitor_step_duration_seconds_sum{{workspace="{ws}"}} {hist["sum"]:.6f}',
        f'jobmonitor_step_duration_seconds_count{{workspace="{ws}"}} {hist["count"]}',
        "# HELP jobmonitor_attempts_running Step attempts running now.",
        "# TYPE jobmonitor_attempts_running gauge",
        f'jobmonitor_attempts_running{{workspace="{ws}"}} {running}',
    ]
    lines += spend
    lines += _redis_metrics()
    lines += supervision.metrics_lines()  # under `jobmonitor up`: restarts of what it runs
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


def _redis_metrics() -> list[str]:
    queue = _label(get_settings().queue)
    try:
        redis = api_redis()
        depth, workers, up = step_queue(redis).count, Worker.count(connection=redis), 1
    except (RedisError, OSError):
        depth, workers, up = 0, 0, 0
    return [
        "# HELP jobmonitor_queue_depth Messages waiting on the rq queue.",
        "# TYPE jobmonitor_queue_depth gauge",
        f'jobmonitor_queue_depth{{queue="{queue}"}} {depth}',
        "# HELP jobmonitor_workers Live rq workers.",
        "# TYPE jobmonitor_workers gauge",
        f"jobmonitor_workers {workers}",
        "# HELP jobmonitor_redis_up Whether Redis answered this scrape.",
        "# TYPE jobmonitor_redis_up gauge",
        f"jobmonitor_redis_up {up}",
    ]


# --- audit ---------------------------------------------------------------------------------


class AuditItem(BaseModel):
    id: int
    actor: str
    action: str
    target_type: str
    target_id: str | None
    status_before: str | None
    status_after: str | None
    data: dict[str, Any] | None
    created_at: datetime


class AuditList(BaseModel):
    items: list[AuditItem]
    next_cursor: str | None


@router.get("/audit", response_model=AuditList, tags=["audit"])
def audit(
    principal: Admin,
    action: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    target_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=18, pattern=r"^[0-9]+$", description="next_cursor of the previous page"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Operator actions newest first: who, what, target, status before/after, when."""
    before = int(cursor) if cursor else None
    with transaction() as conn:
        rows = list_audit(
            conn,
            principal.workspace_id,
            action=action,
            target_id=target_id,
            actor=actor,
            before_id=before,
            limit=limit + 1,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": str(rows[-1]["id"]) if more else None}
