"""Access rules the issue 10 audit found loose: nosniff on every response, workspace existence
never revealed, and the instance-admin role."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from backend.api.app import create_app
from tests.api.conftest import TestClient, World, error_of


def test_every_api_response_says_nosniff(world: World) -> None:
    responses = [
        world.a.viewer.get("/jobs"),
        world.a.viewer.get("/jobs/00000000-0000-0000-0000-000000000000"),
        world.anonymous.get("/jobs"),
        world.a.viewer.get("/no/such/route"),
        world.a.operator.post(
            "/jobs", json={"workflow": "echo3", "input_payload": {"b": "x" * 1_100_000}}
        ),
        world.anonymous.get("/healthz"),
        world.anonymous.get("http://testserver/api/openapi.json"),
        world.a.viewer.post("/jobs", json={}),
    ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url


def test_web_app_pages_say_nosniff() -> None:
    """Reflex mounts itself inside the API app: its pages get the header too."""
    app = create_app()
    app.mount(
        "", Starlette(routes=[Route("/{path:path}", lambda request: HTMLResponse("reflex page"))])
    )
    page = TestClient(app).get("/jobs")
    assert page.text == "reflex page" and page.headers["x-content-type-options"] == "nosniff"


def test_workspace_existence_is_not_revealed(world: World) -> None:
    """A token that may not act in a workspace gets the same 404 whether it exists or not."""
    for client in (world.a.viewer, world.a.operator):
        for headers in (
            {"X-Workspace-Slug": "beta"},
            {"X-Workspace-Id": str(world.b.id)},
        ):
            existing = client.get("/jobs", headers=headers)
            assert existing.status_code == 404, existing.text
            missing_headers = {
                k: ("nope" if k.endswith("Slug") else "00000000-0000-0000-0000-000000000001")
                for k in headers
            }
            missing = client.get("/jobs", headers=missing_headers)
            assert missing.status_code == 404
            assert error_of(existing)["code"] == error_of(missing)["code"] == "not_found"
            shape = error_of(existing)["message"].replace(headers.popitem()[1], "X")
            assert shape == error_of(missing)["message"].replace(missing_headers.popitem()[1], "X")
