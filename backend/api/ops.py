"""Operations: liveness, readiness (database and Redis reachable), Prometheus metrics and the
audit log of operator actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import psycopg
import psycopg_pool
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric
from pydantic import BaseModel
from redis.exceptions import RedisError
from rq import Worker

from backend import outages, supervision
from backend.api.errors import RETRY_AFTER_SECONDS, error_body, request_id
from backend.audit import list_audit
from backend.auth.service import list_workspaces
from backend.budgets import service as budgets
from backend.db import api_pool, ping
from backend.http.deps import Admin, MetricsScope, api_redis, transaction
from backend.jobs import queries
from backend.jobs.listing import count_by_status
from backend.metrics import gauge, registry
from backend.queue import step_queue
from backend.settings import get_settings

router = APIRouter(tags=["ops"])


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


@router.get(
    "/metrics", response_class=PlainTextResponse, responses={200: {"content": {"text/plain": {}}}}
)
def metrics(scope: MetricsScope) -> Response:
    """Prometheus text. Recorded by every process of the host (step durations, reaper
    recoveries, request latency) and read now (jobs by status, running attempts, queue depth,
    live workers). The instance's scrape token sees every workspace; an API token its own."""
    with transaction() as conn:
        spaces = (
            [(w.id, w.slug) for w in list_workspaces(conn)]
            if scope is None
            else [(scope.workspace_id, scope.workspace_slug)]
        )
        jobs = [
            (slug, status, n)
            for ws, slug in spaces
            for status, n in count_by_status(conn, ws).items()
        ]
        running = [(slug, queries.count_running_attempts(conn, ws)) for ws, slug in spaces]
        budget_rows = [row for ws, slug in spaces for row in budgets.metric_rows(conn, ws, slug)]
    snapshot = [
        gauge("jobmonitor_jobs", "Jobs by status.", ["workspace", "status"], jobs),
        gauge("jobmonitor_attempts_running", "Step attempts running now.", ["workspace"], running),
        *_budget_gauges(budget_rows),
        *_redis_gauges(),
        *_restarts(),
    ]
    shown = registry(None if scope is None else {scope.workspace_slug}, snapshot)
    return Response(generate_latest(shown), media_type=CONTENT_TYPE_LATEST)


def _budget_gauges(rows: list[tuple[str, str, str, float, float]]) -> list[Metric]:
    labels = ["workspace", "workflow", "period"]
    return [
        gauge(
            "jobmonitor_budget_spend_usd",
            "Recorded step costs in the budget's current period.",
            labels,
            [(ws, wf, period, spent) for ws, wf, period, spent, _ in rows],
        ),
        gauge(
            "jobmonitor_budget_limit_usd",
            "The budget's limit.",
            labels,
            [(ws, wf, period, limit) for ws, wf, period, _, limit in rows],
        ),
    ]


def _restarts() -> list[Metric]:
    """Under `jobmonitor up`: restarts of each process and service it supervises."""
    rows = supervision.restarts()
    if rows is None:
        return []
    family = CounterMetricFamily(
        "jobmonitor_process_restarts",
        "Restarts by `jobmonitor up` since it started.",
        labels=["process"],
    )
    for name, count in rows:
        family.add_metric([name], count)
    return [family]


def _redis_gauges() -> list[Metric]:
    try:
        redis = api_redis()
        depth, workers, up = step_queue(redis).count, Worker.count(connection=redis), 1
    except (RedisError, OSError):
        depth, workers, up = 0, 0, 0
    return [
        gauge(
            "jobmonitor_queue_depth",
            "Messages waiting on the rq queue.",
            ["queue"],
            [(get_settings().queue, depth)],
        ),
        gauge("jobmonitor_workers", "Live rq workers.", [], [(workers,)]),
        gauge("jobmonitor_redis_up", "Whether Redis answered this scrape.", [], [(up,)]),
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
