"""Tokens, roles and workspaces."""

from __future__ import annotations

import uuid

from backend.auth import service
from backend.auth.service import Role
from backend.db import connect
from tests.api.conftest import TestClient, World, error_of


def test_missing_malformed_and_unknown_tokens_are_401(world: World) -> None:
    assert error_of(world.anonymous.get("/jobs"))["code"] == "unauthenticated"
    assert world.anonymous.get("/jobs").headers["www-authenticate"] == "Bearer"
    for header in ("Basic abc", "Bearer", "Bearer jm_0000_short", "Bearer jm_00000000_" + "x" * 43):
        response = world.anonymous.get("/jobs", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert error_of(response)["code"] == "unauthenticated"


def test_tokens_in_query_strings_are_refused(world: World) -> None:
    token = world.a.tokens["viewer"]
    for name in ("token", "access_token", "api_key"):
        response = world.anonymous.get("/jobs", params={name: token})
        assert response.status_code == 401
        assert "query" in error_of(response)["message"]
    # even next to a valid header: the token has leaked into a URL
    assert world.a.viewer.get("/jobs", params={"access_token": token}).status_code == 401


def test_roles(world: World) -> None:
    viewer, operator = world.a.viewer, world.a.operator
    response = viewer.post("/jobs", json={"workflow": "echo3"})
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "forbidden"
    assert error["details"] == {"required_role": "operator", "token_role": "viewer"}
    assert operator.post("/jobs", json={"workflow": "echo3"}).status_code == 201
    assert operator.get("/tokens").status_code == 403
    assert (
        operator.post(
            "/workflows", json={"name": "x", "steps": [{"key": "a", "action": "test.noop"}]}
        ).status_code
        == 403
    )
    assert world.a.admin.get("/tokens").status_code == 200
    assert viewer.get("/audit").status_code == 403


def test_token_lifecycle_through_the_api(world: World) -> None:
    admin = world.a.admin
    created = admin.post("/tokens", json={"name": "ci bot", "role": "operator"})
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["token"]
    assert token.startswith(f"jm_{body['prefix']}_")
    listed = admin.get("/tokens").json()["items"]
    assert "ci bot" in [t["name"] for t in listed]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    bot = world.client(token)
    me = bot.get("/me").json()
    assert me["role"] == "operator" and me["workspace"]["slug"] == "alpha"
    assert admin.post("/tokens", json={"name": "ci bot", "role": "viewer"}).status_code == 409
    revoked = admin.delete(f"/tokens/{body['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert bot.get("/me").status_code == 401
    assert admin.delete(f"/tokens/{body['id']}").status_code == 200  # idempotent
    assert admin.delete(f"/tokens/{uuid.uuid4()}").status_code == 404


def test_token_requests_refuse_unknown_fields_and_roles(world: World) -> None:
    admin = world.a.admin
    response = admin.post("/tokens", json={"name": "x", "role": "root"})
    assert response.status_code == 422
    assert error_of(response)["details"][0]["loc"] == ["role"]
    response = admin.post(
        "/tokens", json={"name": "x", "role": "viewer", "workspace_id": str(world.b.id)}
    )
    assert response.status_code == 422
    assert error_of(response)["details"][0]["loc"] == ["workspace_id"]


def test_tokens_are_stored_hashed(world: World) -> None:
    with connect() as conn:
        rows = conn.execute("SELECT token_hash, prefix FROM api_tokens").fetchall()
    tokens = set(world.a.tokens.values()) | set(world.b.tokens.values())
    assert rows and not {r["token_hash"] for r in rows} & tokens
    assert {service.hash_token(t) for t in tokens} <= {r["token_hash"] for r in rows}


def _instance_admin(world: World) -> TestClient:
    with connect() as conn, conn.transaction():
        token, _, _ = service.bootstrap_token(conn, "alpha", Role.ADMIN, "ops", instance_admin=True)
    return world.client(token)


def test_instance_admin_picks_a_workspace(world: World) -> None:
    job = world.create("echo3", ws=world.b)
    admin_a = _instance_admin(world)
    assert admin_a.get(f"/jobs/{job['id']}").status_code == 404
    by_id = admin_a.get(f"/jobs/{job['id']}", headers={"X-Workspace-Id": str(world.b.id)})
    assert by_id.status_code == 200
    by_slug = admin_a.get("/jobs", headers={"X-Workspace-Slug": "beta"})
    assert [j["id"] for j in by_slug.json()["items"]] == [job["id"]]
    assert (
        admin_a.get("/me", headers={"X-Workspace-Slug": "beta"}).json()["workspace"]["slug"]
        == "beta"
    )
    # non-admins may only name their own workspace; another one is not found (issue 10)
    assert world.a.operator.get("/jobs", headers={"X-Workspace-Slug": "beta"}).status_code == 404
    assert world.a.operator.get("/jobs", headers={"X-Workspace-Slug": "alpha"}).status_code == 200
    assert admin_a.get("/jobs", headers={"X-Workspace-Slug": "nope"}).status_code == 404
    assert admin_a.get("/jobs", headers={"X-Workspace-Id": "not-a-uuid"}).status_code == 422
    mismatch = admin_a.get(
        "/jobs", headers={"X-Workspace-Id": str(world.a.id), "X-Workspace-Slug": "beta"}
    )
    assert mismatch.status_code == 422


def test_workspaces(world: World) -> None:
    admin = _instance_admin(world)
    slugs = [w["slug"] for w in admin.get("/workspaces").json()["items"]]
    assert {"alpha", "beta"} <= set(slugs)
    assert [w["slug"] for w in world.a.viewer.get("/workspaces").json()["items"]] == ["alpha"]
    assert admin.post("/workspaces", json={"slug": "gamma", "name": "Gamma"}).status_code == 201
    assert admin.post("/workspaces", json={"slug": "gamma"}).status_code == 409
    assert admin.post("/workspaces", json={"slug": "Bad Slug"}).status_code == 422
    assert world.a.operator.post("/workspaces", json={"slug": "delta"}).status_code == 403


def test_bootstrap_and_first_admin(world: World) -> None:
    with connect() as conn:
        _, row, created = service.bootstrap_token(conn, "fresh", Role.VIEWER, "cli")
        conn.commit()
        assert created and row.role == "viewer"
        assert service.ensure_first_admin(conn) is None  # tokens exist already
        conn.execute("DELETE FROM api_tokens")
        first = service.ensure_first_admin(conn)
        conn.commit()
    assert first is not None
    me = world.client(first).get("/me").json()
    assert me["role"] == "admin" and me["workspace"]["slug"] == "default"
