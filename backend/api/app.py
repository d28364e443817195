"""The FastAPI application: mounted inside Reflex's backend (`rx.App(api_transformer=...)`), or
served alone by `jobmonitor api` (backend/api/serve.py).

No lifespan or startup hook: they do not run when Reflex mounts the app, so the connection
pool and the Redis client are created on first use.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.routing import Match

from backend.alerts.api import router as alerts_router
from backend.api import errors, events, operator, ops, workflow_runbook
from backend.api.middleware import RequestContext
from backend.auth.api import router as auth_router
from backend.budgets.api import router as budgets_router
from backend.continuous.api import router as continuous_router
from backend.failures.api import router as failures_router
from backend.jobs.api import router as jobs_router
from backend.jobs.detail_api import router as job_detail_router
from backend.jobs.history_api import router as job_history_router
from backend.logs import configure as configure_logging
from backend.logs import json_lines
from backend.notify.api import router as channels_router
from backend.reviews.api import router as human_steps_router
from backend.runs.api import router as runs_router
from backend.runs.grid_api import router as runs_grid_router
from backend.schedules.api import router as schedules_router
from backend.triggers.api import router as triggers_router
from backend.views.api import router as views_router
from backend.workers.api import router as workers_router
from backend.workflows.api import router as workflows_router
from backend.workflows.telemetry_api import router as telemetry_router

API_V1 = "/api/v1"
CATCH_ALL = "/api/{path:path}"
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
                "request_id": {"type": "string"},
            },
            "required": ["code", "message"],
        }
    },
}


def create_app() -> FastAPI:
    if json_lines():  # every API process: `jobmonitor api` (each uvicorn worker), the web app
        configure_logging()
    app = FastAPI(
        title="Jobmonitor API",
        version="1",
        description="Jobs, workflows, live events, tokens and workspaces. Authenticate with "
        '`Authorization: Bearer <token>`; errors answer `{"error": {code, message, details, request_id}}`.',
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    errors.install(app)
    app.add_middleware(RequestContext)
    v1 = APIRouter(prefix=API_V1)
    v1.include_router(operator.router)  # first: POST /jobs/prune before the /jobs/{job_id} routes
    for router in (
        jobs_router,
        job_detail_router,
        job_history_router,
        human_steps_router,
        workflows_router,
        schedules_router,
        triggers_router,
        continuous_router,
        channels_router,
        alerts_router,
        budgets_router,
        auth_router,
        failures_router,
        views_router,
        events.router,
        ops.router,
        runs_router,
        runs_grid_router,
        workers_router,
    ):
        v1.include_router(router)
    app.include_router(v1)
    app.include_router(telemetry_router, prefix="/api")  # the telemetry contract's /api/workflows
    app.include_router(events.root_router)  # its /ws/workflows/..., ahead of the web app
    app.include_router(workflow_runbook.router)  # seed 000's routes
    app.add_api_route(
        "/api/healthz", ops.healthz, methods=["GET"], tags=["ops"], include_in_schema=False
    )

    @app.api_route(
        CATCH_ALL,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        include_in_schema=False,
    )
    def api_not_found(request: Request, path: str) -> JSONResponse:
        """Unknown /api paths answer JSON (under Reflex they would get its HTML 404); a known
        path with another method answers 405."""
        allowed = _allowed_methods(app, request)
        if allowed:
            return errors.error_response(
                request,
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        return errors.error_response(
            request, 404, "not_found", f"no API route {request.method} /api/{path}"
        )

    app.openapi_schema = None
    _document_errors(app)
    return app


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods another route accepts for this path (asked per method, which works for
    plain and included routers alike)."""
    others = [r for r in app.routes if getattr(r, "path", None) != CATCH_ALL]
    routes = [
        r for r in others if r.matches(request.scope)[0] is Match.PARTIAL
    ]  # right path, other method
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(r.matches(scope)[0] is Match.FULL for r in routes):
            allowed.append(method)
    return allowed


def _document_errors(app: FastAPI) -> None:
    """Every documented error response points at the one error body."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for code, response in operation.get("responses", {}).items():
                    if code[0] in "45" and code != "422" and "content" not in response:
                        response["content"] = {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
