"""Who am I, API tokens (admin) and workspaces."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from fastapi import APIRouter
from fastapi import status as http

from backend.audit import record_audit
from backend.auth import service
from backend.auth.rows import TokenRow, WorkspaceRow
from backend.auth.schemas import (
    CreatedToken,
    CreateTokenRequest,
    CreateWorkspaceRequest,
    Me,
    TokenInfo,
    TokenList,
    Workspace,
    WorkspaceList,
    WorkspaceSettings,
)
from backend.errors import Conflict
from backend.http.deps import Admin, InstanceAdmin, Viewer, transaction
from backend.http.responses import errors

router = APIRouter(tags=["auth"])

ERRORS = errors()


@router.get("/me", response_model=Me, responses=ERRORS)
def me(principal: Viewer) -> dict[str, Any]:
    """The calling token, its role and the workspace the request acts in."""
    with transaction() as conn:
        workspace = service.find_workspace(conn, workspace_id=principal.workspace_id)
    return {
        "token_id": principal.token_id,
        "token_name": principal.token_name,
        "role": principal.role,
        "workspace": workspace,
        "home_workspace_id": principal.home_workspace_id,
        "instance_admin": principal.instance_admin,
    }


@router.get("/tokens", response_model=TokenList, responses=ERRORS, tags=["tokens"])
def list_tokens(principal: Admin) -> dict[str, Any]:
    """The workspace's tokens (never their secrets)."""
    with transaction() as conn:
        return {"items": service.list_tokens(conn, principal.workspace_id)}


@router.post(
    "/tokens",
    status_code=http.HTTP_201_CREATED,
    response_model=CreatedToken,
    responses=errors(conflict="A token with this name exists"),
    tags=["tokens"],
)
def create_token(body: CreateTokenRequest, principal: Admin) -> dict[str, Any]:
    """A new token; the response is the only time its secret is shown."""
    with transaction() as conn:
        plaintext, row = service.create_token(conn, principal.workspace_id, body.name, body.role)
        record_audit(
            conn,
            principal,
            "token.create",
            "token",
            row.id,
            None,
            "active",
            {"name": body.name, "role": body.role.value},
        )
    return {**dataclasses.asdict(row), "token": plaintext}


@router.delete(
    "/tokens/{token_id}",
    response_model=TokenInfo,
    responses=errors(not_found="No such token in this workspace"),
    tags=["tokens"],
)
def revoke_token(token_id: uuid.UUID, principal: Admin) -> TokenRow:
    """Revoke a token: it stops working at once. Revoking twice is harmless."""
    with transaction() as conn:
        row = service.revoke_token(conn, principal.workspace_id, token_id)
        record_audit(
            conn,
            principal,
            "token.revoke",
            "token",
            token_id,
            "active",
            "revoked",
            {"name": row.name},
        )
    return row


@router.get("/workspaces", response_model=WorkspaceList, responses=ERRORS, tags=["workspaces"])
def list_workspaces(principal: Viewer) -> dict[str, Any]:
    """Instance admins see every workspace (they may act in any); others their own."""
    with transaction() as conn:
        if principal.instance_admin:
            return {"items": service.list_workspaces(conn)}
        return {"items": [service.find_workspace(conn, workspace_id=principal.home_workspace_id)]}


@router.post(
    "/workspaces",
    status_code=http.HTTP_201_CREATED,
    response_model=Workspace,
    responses=errors(conflict="The slug is taken"),
    tags=["workspaces"],
)
def create_workspace(body: CreateWorkspaceRequest, principal: InstanceAdmin) -> WorkspaceRow:
    """A new workspace (instance admins only: a workspace admin is confined to its own)."""
    with transaction() as conn:
        row, created = service.create_workspace_if_missing(conn, body.slug, body.name)
        if not created:
            raise Conflict(f"workspace {body.slug!r} exists", {"id": str(row.id)})
        record_audit(
            conn,
            principal,
            "workspace.create",
            "workspace",
            row.id,
            None,
            None,
            {"slug": body.slug},
        )
    return row


@router.get(
    "/workspace/settings", response_model=WorkspaceSettings, responses=ERRORS, tags=["workspaces"]
)
def read_settings(principal: Viewer) -> dict[str, Any]:
    """The settings of the workspace the request acts in."""
    return {"operators_see_secrets": principal.operators_see_secrets}


@router.put(
    "/workspace/settings", response_model=WorkspaceSettings, responses=ERRORS, tags=["workspaces"]
)
def change_settings(body: WorkspaceSettings, principal: Admin) -> dict[str, Any]:
    """Change the workspace's settings (admin; audited)."""
    with transaction() as conn:
        before, row = service.set_operators_see_secrets(
            conn, principal.workspace_id, body.operators_see_secrets
        )
        record_audit(
            conn,
            principal,
            "workspace.settings",
            "workspace",
            principal.workspace_id,
            None,
            None,
            {"operators_see_secrets": {"before": before, "after": body.operators_see_secrets}},
        )
    return {"operators_see_secrets": row.operators_see_secrets}
