"""Plain ASGI middleware for `/api` paths (under Reflex the app also wraps Reflex's own routes,
which only get the security headers): a request id on every request and response, the request
body limit, and the last-resort 500 that carries the request id.

Every HTTP response, API or web app, says `X-Content-Type-Options: nosniff`: a payload that
looks like HTML is never sniffed into a page."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.errors import error_body
from backend.logs import log_context
from backend.metrics import observe_request
from backend.tracing import mark_error, span

log = logging.getLogger("jobmonitor.api")

MAX_BODY_BYTES = 1024 * 1024
API_PREFIX = "/api"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff")]


class RequestContext:
    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not str(scope.get("path", "")).startswith(API_PREFIX):
            await self.app(scope, receive, _with_headers(send, SECURITY_HEADERS))
            return
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        with log_context(request_id=rid):
            await self._serve(scope, receive, send, rid)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        started, status, began = False, 500, time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", rid.encode()),
                    *SECURITY_HEADERS,
                ]
            await send(message)

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await _send_error(send_with_id, 413, "payload_too_large", self._too_large(), rid)
            return
        method, path = scope["method"], str(scope["path"])
        attributes = {"http.request.method": method, "url.path": path, "jobmonitor.request_id": rid}
        with span(f"{method} {path}", kind="server", **attributes) as current:
            try:
                await self.app(scope, self._limited(receive), send_with_id)
            except Exception:
                log.exception("request %s (%s %s) failed", rid, method, path)
                if not started:
                    message = "internal error; the request id identifies it in the server log"
                    await _send_error(send_with_id, 500, "internal", message, rid)
            finally:
                route = _route(scope)
                observe_request(method, route, status, time.perf_counter() - began)
                current.update_name(f"{method} {route}")
                current.set_attribute("http.route", route)
                current.set_attribute("http.response.status_code", status)
                if status >= 500:
                    mark_error(current, f"answered {status}")

    def _too_large(self) -> str:
        return f"request body larger than {self.max_body // 1024} KiB"

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:  # FastAPI re-raises HTTPException from body reading
                    raise HTTPException(413, self._too_large())
            return message

        return wrapped


def _with_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *headers]
        await send(message)

    return wrapped


def _route(scope: Scope) -> str:
    """The matched route's template with its prefixes ("/api/v1/jobs/{job_id}"), for metric
    labels: the path with each parameter's value put back as its name (a route of an included
    router knows only its own part). The catch-all's parameter spans segments: its own path."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    params = {str(v): k for k, v in (scope.get("path_params") or {}).items()}
    if any("/" in value for value in params):
        return str(route.path)
    segments = str(scope["path"]).split("/")
    return "/".join(f"{{{params[s]}}}" if s in params else s for s in segments)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.match(text):
                return text
    return uuid.uuid4().hex


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_error(send: Send, status: int, code: str, message: str, rid: str) -> None:
    body: dict[str, Any] = error_body(code, message, None, rid)
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
