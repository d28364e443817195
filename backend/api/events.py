"""Live events: Server-Sent Events (`GET /events`) and WebSockets (`/ws/jobs/{id}`,
`/ws/workflows/{id}`), both fed by `backend.api.stream`.

SSE messages carry `id:` (the event id, for Last-Event-ID), `event:` (its type: the telemetry names
workflow_started/completed/failed, step_started/completed/failed, plus retrying, cancelled,
log and the finer ones) and `data:` (the event as JSON with the telemetry field names).
WebSocket messages are the telemetry contract's `{"event": ..., "data": {...}}`.

WebSockets authenticate with `Authorization: Bearer` or, from a browser (which cannot set
headers on a WebSocket), by offering the subprotocols `jobmonitor` and `bearer.<token>` (the
server selects `jobmonitor`), or by the signed-in web monitor's `jm_session` cookie (browsers
only: never without an Origin). A browser Origin must be the API's own or a configured one.
The workflow sockets also answer at the root, `/ws/workflows/{id}[/step/{step}]`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlsplit

import anyio
import psycopg
import psycopg_pool
from fastapi import APIRouter, Header, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from starlette.websockets import WebSocketDisconnect

from backend.api.errors import status_of
from backend.api.stream import EventFilter, latest_event_id, stream_events, telemetry_payload
from backend.errors import InvalidInput, JobmonitorError, NotFound
from backend.http import deps
from backend.http.deps import Principal, Viewer, transaction
from backend.http.responses import errors
from backend.jobs.queries import get_job
from backend.settings import get_settings
from backend.workflows.queries import find_step_key, find_workflow

router = APIRouter(tags=["events"])

SUBPROTOCOL = "jobmonitor"
TOKEN_SUBPROTOCOL = "bearer."
SESSION_COOKIE = "jm_session"  # set by the web monitor's sign-in (SameSite=Strict)


def _filter(
    principal: Principal, job_id: uuid.UUID | None, workflow: str | None, step: str | None = None
) -> EventFilter:
    """Check the filter's objects exist in the principal's workspace (404 otherwise); `step`
    (with a workflow) is a workflow step's id or key."""
    with transaction() as conn:
        if job_id is not None:
            get_job(conn, job_id, workspace_id=principal.workspace_id, payloads=False)
        found = find_workflow(conn, principal.workspace_id, workflow) if workflow else None
        step_key = find_step_key(conn, found, step) if found and step is not None else None
    return EventFilter(principal.workspace_id, job_id, found.id if found else None, step_key)


def _start_id(f: EventFilter, last_event_id: int | None) -> int:
    """Resume after the client's last id; a job's stream starts at its first event; any other
    stream starts now (history can be long: use the list endpoints)."""
    if last_event_id is not None:
        return last_event_id
    return 0 if f.job_id is not None else latest_event_id(f.workspace_id)


def _last_id(header: str | None, param: int | None) -> int | None:
    if header is None or not header.strip():
        return param
    try:
        value = int(header.strip())
    except ValueError:
        value = -1
    if not 0 <= value < 2**62:
        raise InvalidInput(
            "Last-Event-ID must be an event id",
            [{"loc": ["header", "last-event-id"], "msg": "not an event id"}],
        )
    return value


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        **errors(not_found="No such job or workflow in this workspace"),
        200: {"content": {"text/event-stream": {}}, "description": "An event stream"},
    },
)
async def events(
    request: Request,
    principal: Viewer,
    job_id: uuid.UUID | None = None,
    workflow_id: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Workflow id or name")
    ] = None,
    last_event_id: Annotated[
        int | None, Query(ge=0, lt=2**62, description="Same as the Last-Event-ID header")
    ] = None,
    until_terminal: Annotated[
        bool, Query(description="With job_id: end once the job is finished")
    ] = False,
    timeout: Annotated[
        float | None, Query(gt=0, le=86400, description="End the stream after this many seconds")
    ] = None,
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=30)
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events of the workspace, optionally one job's or one workflow's."""
    if until_terminal and job_id is None:
        raise InvalidInput(
            "until_terminal needs job_id",
            [{"loc": ["query", "until_terminal"], "msg": "needs job_id"}],
        )
    resume = _last_id(last_event_id_header, last_event_id)
    f = await anyio.to_thread.run_sync(_filter, principal, job_id, workflow_id)
    start = await anyio.to_thread.run_sync(_start_id, f, resume)
    body = _sse(f, start, until_terminal, timeout)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


async def _sse(
    f: EventFilter, start: int, until_terminal: bool, timeout: float | None
) -> AsyncIterator[str]:
    yield "retry: 3000\n: connected\n\n"
    async for event in stream_events(f, start, until_terminal=until_terminal, max_seconds=timeout):
        if event is None:
            yield ": keep-alive\n\n"
            continue
        data = json.dumps(telemetry_payload(event), default=str, separators=(",", ":"))
        yield f"id: {event['id']}\nevent: {event['type']}\ndata: {data}\n\n"


# --- WebSockets -----------------------------------------------------------------------------


def origin_allowed(websocket: WebSocket) -> bool:
    """No Origin (not a browser), the API's own origin, or a configured one."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    if origin.rstrip("/") in {o.rstrip("/") for o in get_settings().allowed_origins}:
        return True
    host = websocket.headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


def _ws_token(websocket: WebSocket) -> str | None:
    """The Bearer header, the `bearer.<token>` subprotocol, or (a browser, whose Origin was
    checked) the signed-in web monitor's session cookie."""
    token = deps.token_from_header(websocket.headers.get("authorization"))
    if token is not None:
        return token
    for proto in websocket.scope.get("subprotocols", []):
        if proto.startswith(TOKEN_SUBPROTOCOL):
            return proto[len(TOKEN_SUBPROTOCOL) :]
    if websocket.headers.get("origin") is not None:
        return websocket.cookies.get(SESSION_COOKIE) or None
    return None


def _ws_filter(
    websocket: WebSocket, job: str | None, workflow: str | None, step: str | None = None
) -> EventFilter:
    deps.refuse_query_tokens(websocket.query_params.keys())
    with transaction() as conn:
        principal = deps.resolve(
            conn,
            _ws_token(websocket),
            websocket.headers.get("x-workspace-id"),
            websocket.headers.get("x-workspace-slug"),
        )
    job_id = None
    if job is not None:
        try:
            job_id = uuid.UUID(job)
        except ValueError:
            raise NotFound(f"job {job} not found") from None
    return _filter(principal, job_id, workflow, step)


def _ws_last_id(websocket: WebSocket) -> int | None:
    raw = websocket.query_params.get("last_event_id")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) >= 2**62:
        raise InvalidInput("last_event_id must be an event id")
    return int(raw)


async def _serve(
    websocket: WebSocket,
    job: str | None = None,
    workflow: str | None = None,
    step: str | None = None,
) -> None:
    if not origin_allowed(websocket):
        await websocket.close(code=1008, reason="origin not allowed")
        return
    subprotocol = SUBPROTOCOL if SUBPROTOCOL in websocket.scope.get("subprotocols", []) else None
    try:
        f = await anyio.to_thread.run_sync(_ws_filter, websocket, job, workflow, step)
        start = await anyio.to_thread.run_sync(_start_id, f, _ws_last_id(websocket))
    except JobmonitorError as exc:
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(code=4000 + status_of(exc), reason=exc.message[:120])
        return
    except Exception as exc:  # database unavailable: "try again later"
        if not _unavailable(exc):
            raise
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(code=1013, reason="unavailable, retry later")
        return
    await websocket.accept(subprotocol=subprotocol)
    async with anyio.create_task_group() as tg:
        tg.start_soon(_send_events, websocket, f, start, tg.cancel_scope)
        await _until_disconnect(websocket)
        tg.cancel_scope.cancel()


def _unavailable(exc: Exception) -> bool:
    return isinstance(exc, psycopg.OperationalError | psycopg_pool.PoolTimeout)


async def _send_events(
    websocket: WebSocket, f: EventFilter, start: int, scope: anyio.CancelScope
) -> None:
    try:
        async for event in stream_events(f, start):
            if event is not None:
                await websocket.send_json(
                    {"event": event["type"], "data": _jsonable(telemetry_payload(event))}
                )
    except (WebSocketDisconnect, RuntimeError):
        pass
    scope.cancel()


def _jsonable(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data, default=str))


async def _until_disconnect(websocket: WebSocket) -> None:
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
    except (WebSocketDisconnect, RuntimeError):
        return


@router.websocket("/ws/jobs/{job_id}")
async def ws_job(websocket: WebSocket, job_id: str) -> None:
    """The telemetry messages for one job."""
    await _serve(websocket, job=job_id)


@router.websocket("/ws/workflows/{workflow_id}")
async def ws_workflow(websocket: WebSocket, workflow_id: str) -> None:
    """The telemetry messages for every job of one workflow (id or name)."""
    await _serve(websocket, workflow=workflow_id)


@router.websocket("/ws/workflows/{workflow_id}/step/{step_id}")
async def ws_workflow_step(websocket: WebSocket, workflow_id: str, step_id: str) -> None:
    """The telemetry messages of one step (its id or key) in every job of one workflow."""
    await _serve(websocket, workflow=workflow_id, step=step_id)


# The telemetry contract's paths at the root (`ws://{host}/ws/workflows/...`): the same
# handlers. The API app is the outermost ASGI app with the web app mounted inside it, so these
# routes answer before the web app sees the request, in the same process and port.
root_router = APIRouter(tags=["events"])
root_router.add_api_websocket_route("/ws/workflows/{workflow_id}", ws_workflow)
root_router.add_api_websocket_route("/ws/workflows/{workflow_id}/step/{step_id}", ws_workflow_step)
