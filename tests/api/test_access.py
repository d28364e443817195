"""Access rules the issue 10 audit found loose: nosniff on every response, workspace existence
never revealed, and the instance-admin role."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from typer.testing import CliRunner

from backend.api.app import create_app
from backend.auth import service as auth
from backend.db import connect
from cli.main import app as cli_app
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
    # naming its own workspace's id with another's slug tells nothing either
    mixed = world.a.operator.get(
        "/jobs", headers={"X-Workspace-Id": str(world.a.id), "X-Workspace-Slug": "beta"}
    )
    assert mixed.status_code == 404
    assert world.a.operator.get("/jobs", headers={"X-Workspace-Id": "x"}).status_code == 422


# --- the instance-admin role --------------------------------------------------------------


def _cli(*args: str) -> Any:
    return CliRunner().invoke(cli_app, list(args), env={"COLUMNS": "200"})


def test_a_workspace_admin_is_confined_to_its_workspace(world: World) -> None:
    job = world.create("echo3", ws=world.b)
    admin_a = world.a.admin
    for headers in ({"X-Workspace-Slug": "beta"}, {"X-Workspace-Id": str(world.b.id)}):
        assert admin_a.get(f"/jobs/{job['id']}", headers=headers).status_code == 404
        assert admin_a.get("/tokens", headers=headers).status_code == 404
        assert (
            admin_a.post(
                "/tokens", headers=headers, json={"name": "x", "role": "admin"}
            ).status_code
            == 404
        )
    assert [w["slug"] for w in admin_a.get("/workspaces").json()["items"]] == ["alpha"]
    created = admin_a.post("/workspaces", json={"slug": "gamma"})
    assert created.status_code == 403 and "instance-admin" in error_of(created)["message"]
    assert admin_a.get("/me").json()["instance_admin"] is False
    # the API never makes an instance admin
    refused = admin_a.post("/tokens", json={"name": "up", "role": "admin", "instance_admin": True})
    assert refused.status_code == 422
    assert all(not t["instance_admin"] for t in admin_a.get("/tokens").json()["items"])


def test_an_instance_admin_made_on_the_server_acts_everywhere(world: World) -> None:
    result = _cli(
        "token", "create", "--workspace", "alpha", "--instance-admin", "--name", "ops", "--json"
    )
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert made["role"] == "admin" and made["instance_admin"] is True
    ops = world.client(made["token"])
    job = world.create("echo3", ws=world.b)
    assert ops.get(f"/jobs/{job['id']}").status_code == 404  # its own workspace by default
    assert ops.get(f"/jobs/{job['id']}", headers={"X-Workspace-Slug": "beta"}).status_code == 200
    assert ops.get("/me").json()["instance_admin"] is True
    assert {"alpha", "beta"} <= {w["slug"] for w in ops.get("/workspaces").json()["items"]}
    assert ops.post("/workspaces", json={"slug": "gamma"}).status_code == 201
    listed = _cli("token", "list", "--workspace", "alpha")
    assert "instance admin" in listed.stdout
    assert (
        _cli("token", "create", "--workspace", "alpha", "--name", "v", "--role", "viewer").exit_code
        == 0
    )


def test_first_admin_of_up_is_an_instance_admin(world: World) -> None:
    with connect(autocommit=True) as conn, conn.transaction():
        conn.execute("DELETE FROM api_tokens")
        first = auth.ensure_first_admin(conn)
    assert first is not None
    assert world.client(first).get("/me").json()["instance_admin"] is True
