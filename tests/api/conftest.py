"""API fixtures: the real app over a fresh database and Redis db, two workspaces with tokens
of every role, registered test workflows, and the engine harness to run steps.

    world.a.admin / .operator / .viewer    clients of workspace A (httpx via TestClient)
    world.b.admin                          a client of workspace B
    world.engine                           tests.integration.conftest.Engine (work, drain)
"""

from __future__ import annotations

import functools
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI

with warnings.catch_warnings():  # "use httpx2": the httpx-based client still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from backend.api.app import create_app
from backend.auth.service import Role, bootstrap_token
from backend.db import close_api_pool, connect
from backend.workflows.service import register_workflow
from tests.integration.conftest import Engine, chain

API = "http://testserver/api/v1"

WORKFLOWS: list[dict[str, Any]] = [
    chain("echo3", "a", "b", "c"),
    {
        "name": "typed",
        "input_schema": {
            "type": "object",
            "properties": {"count": {"type": "integer", "minimum": 1}, "name": {"type": "string"}},
            "required": ["count", "name"],
            "additionalProperties": False,
        },
        "steps": [{"key": "only", "action": "test.echo"}],
    },
    {
        "name": "flaky",
        "steps": [
            {
                "key": "try",
                "action": "test.flaky",
                "params": {"fail_times": 2},
                "retry": {"max_attempts": 3, "backoff_seconds": 0},
            },
        ],
    },
    {
        "name": "broken",
        "steps": [{"key": "boom", "action": "test.flaky", "params": {"fail_times": 5}}],
    },
    {
        "name": "single",
        "concurrency": {"max_concurrent_jobs": 1},
        "steps": [{"key": "s", "action": "test.noop"}],
    },
    {
        "name": "slow-start",
        "concurrency": {"min_seconds_between_starts": 600},
        "steps": [{"key": "s", "action": "test.noop"}],
    },
    {"name": "listy", "steps": [{"key": "items", "action": "test.echo"}]},
]


@dataclass
class Workspace:
    id: uuid.UUID
    slug: str
    tokens: dict[str, str] = field(default_factory=dict)
    workflows: dict[str, uuid.UUID] = field(default_factory=dict)
    clients: dict[str, TestClient] = field(default_factory=dict)

    @property
    def admin(self) -> TestClient:
        return self.clients["admin"]

    @property
    def operator(self) -> TestClient:
        return self.clients["operator"]

    @property
    def viewer(self) -> TestClient:
        return self.clients["viewer"]


@dataclass
class World:
    app: FastAPI
    engine: Engine
    a: Workspace
    b: Workspace
    anonymous: TestClient

    def client(self, token: str, **headers: str) -> TestClient:
        return TestClient(
            self.app, base_url=API, headers={"Authorization": f"Bearer {token}", **headers}
        )

    def create(
        self,
        workflow: str = "echo3",
        payload: dict[str, Any] | None = None,
        ws: Workspace | None = None,
        **body: Any,
    ) -> dict[str, Any]:
        """Create a job through the API (operator of A by default) and return its body."""
        response = (ws or self.a).operator.post(
            "/jobs", json={"workflow": workflow, "input_payload": payload or {}, **body}
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run the job's steps to the end on real rq workers."""
        return self.engine.drain(uuid.UUID(job["id"]))


def _workspace(conn: psycopg.Connection[Any], slug: str, roles: list[Role]) -> Workspace:
    ws: Workspace | None = None
    for role in roles:
        with conn.transaction():
            token, row, _ = bootstrap_token(conn, slug, role, f"{role.value}-token")
        ws = ws or Workspace(id=row.workspace_id, slug=slug)
        ws.tokens[role.value] = token
    assert ws is not None
    with conn.transaction():
        for definition in WORKFLOWS:
            ws.workflows[definition["name"]] = register_workflow(
                conn, ws.id, definition
            ).workflow_id
    return ws


@functools.cache
def shared_app() -> FastAPI:
    """One API app for every test of this process: building one takes about 0.5 s of CPU (its
    ~100 routes' models), and it holds no state of a test's own (the database and Redis are read
    from the environment per request, the connection pool is closed after each test)."""
    return create_app()


@pytest.fixture
def world(env: dict[str, str]) -> Iterator[World]:
    app = shared_app()
    with connect(autocommit=True) as conn:
        a = _workspace(conn, "alpha", [Role.ADMIN, Role.OPERATOR, Role.VIEWER])
        b = _workspace(conn, "beta", [Role.ADMIN, Role.OPERATOR, Role.VIEWER])
        for ws in (a, b):
            for role, token in ws.tokens.items():
                ws.clients[role] = TestClient(
                    app, base_url=API, headers={"Authorization": f"Bearer {token}"}
                )
        yield World(app=app, engine=Engine(conn), a=a, b=b, anonymous=TestClient(app, base_url=API))
    close_api_pool()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(world: World) -> Iterator[str]:
    """The same app on a real uvicorn server (streaming responses need a real socket)."""
    with serve_in_thread(world.app) as base:
        yield f"{base}/api/v1"


@contextmanager
def serve_in_thread(app: Any, **config: Any) -> Iterator[str]:
    """Run an ASGI app on a real uvicorn server in a thread; yields http://127.0.0.1:PORT."""
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="off", **config
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def error_of(response: Any) -> dict[str, Any]:
    """The error object of an error response, checking the one error shape."""
    body = response.json()
    assert set(body) >= {"error"}, body
    assert {"code", "message", "details", "request_id"} <= set(body["error"]), body
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    return body["error"]  # type: ignore[no-any-return]
