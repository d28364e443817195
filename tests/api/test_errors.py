"""The error table: shapes, body limit, unknown routes, and 503 when a dependency is down."""

from __future__ import annotations

from typing import Any

import pytest

from backend import db
from backend.api.app import create_app
from backend.db import close_api_pool
from backend.http import deps
from backend.settings import reset_settings
from tests.api.conftest import TestClient, World, error_of


def test_request_id_is_echoed_or_made(world: World) -> None:
    response = world.a.viewer.get("/jobs/counts", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    made = world.a.viewer.get("/jobs/counts", headers={"X-Request-ID": "bad id with spaces"})
    assert (
        made.headers["x-request-id"] != "bad id with spaces"
        and len(made.headers["x-request-id"]) == 32
    )


def test_bodies_over_one_megabyte_are_413(world: World) -> None:
    big = {"workflow": "echo3", "input_payload": {"blob": "x" * (1024 * 1024 + 10)}}
    response = world.a.operator.post("/jobs", json=big)
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"

    def chunks() -> Any:  # no Content-Length: counted while read
        yield b'{"workflow": "echo3", "input_payload": {"blob": "'
        for _ in range(1100):
            yield b"x" * 1024
        yield b'"}}'

    streamed = world.a.operator.post(
        "/jobs", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert world.a.viewer.get("/jobs").json()["total"] == 0


def test_unknown_api_paths_and_methods_answer_json(world: World) -> None:
    response = world.a.viewer.get("/nothing/here")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    outside = world.anonymous.get("http://testserver/api/v2/jobs")
    assert outside.status_code == 404 and error_of(outside)["code"] == "not_found"
    wrong = world.a.viewer.put("/jobs")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"


def test_docs_and_openapi(world: World) -> None:
    spec = world.anonymous.get("http://testserver/api/openapi.json").json()
    assert "/api/v1/jobs" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert world.anonymous.get("http://testserver/api/docs").status_code == 200


def test_values_postgres_refuses_are_422(world: World) -> None:
    response = world.a.operator.post(
        "/jobs", json={"workflow": "echo3", "input_payload": {"s": "nul\u0000byte"}}
    )
    assert response.status_code == 422
    assert world.a.viewer.get("/jobs", params={"q": "a\x00b"}).status_code == 422


@pytest.fixture
def dead_database(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    close_api_pool()
    monkeypatch.setattr(db, "API_POOL_TIMEOUT", 0.5)
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    reset_settings()
    return world


def test_database_down_is_503_with_retry_after(dead_database: World) -> None:
    for response in (
        dead_database.a.viewer.get("/jobs"),
        dead_database.a.operator.post("/jobs", json={"workflow": "echo3"}),
    ):
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert error_of(response)["code"] == "unavailable"
    ready = dead_database.anonymous.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"]["ok"] is False
    assert dead_database.anonymous.get("/healthz").status_code == 200


def test_redis_down_still_stores_the_job(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBMONITOR_REDIS_URL", "redis://127.0.0.1:1/0")
    reset_settings()
    monkeypatch.setattr(deps, "_redis", None)
    response = world.a.operator.post("/jobs", json={"workflow": "echo3"})
    assert response.status_code == 201  # stored; the reaper enqueues it when Redis is back
    assert world.a.viewer.get(f"/jobs/{response.json()['id']}").status_code == 200
    ready = world.anonymous.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"]["ok"] is False
    assert ready.json()["checks"]["database"]["ok"] is True


def test_mounted_like_reflex_api_paths_stay_json(world: World) -> None:
    """Reflex mounts itself at "" inside our app: /api paths must still answer JSON, and
    every other path must reach Reflex untouched."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    app = create_app()
    app.mount(
        "", Starlette(routes=[Route("/{path:path}", lambda request: HTMLResponse("reflex page"))])
    )
    client = TestClient(app)
    missing = client.get("/api/v1/no-such-route")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
    page = client.get("/jobs")
    assert page.text == "reflex page" and "x-request-id" not in page.headers
    assert client.get("/api/v1/healthz").json() == {"status": "ok"}
