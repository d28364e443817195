"""Saved views: a named job search (the `search` syntax of `GET /jobs`) of the caller or of
the whole workspace, listed in the web monitor's navigation."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Response
from fastapi import status as http
from pydantic import BaseModel, ConfigDict, Field

from backend.audit import record_audit
from backend.auth.service import Role
from backend.http.deps import Viewer, require_role, transaction
from backend.http.responses import errors
from backend.jobs import search
from backend.views import queries
from backend.views.rows import ViewRow

router = APIRouter(prefix="/views", tags=["views"])


class SavedView(BaseModel):
    id: uuid.UUID
    owner: str | None = Field(description="The token name it belongs to; null: the workspace's.")
    name: str
    query: str
    created_at: datetime


class SavedViews(BaseModel):
    items: list[SavedView]


class CreateView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    query: str = Field(min_length=1, max_length=1000, description="A `GET /jobs` search.")
    shared: bool = Field(default=False, description="For the whole workspace (operator role).")


@router.get("", response_model=SavedViews, responses=errors())
def list_views(principal: Viewer) -> dict[str, list[ViewRow]]:
    """The caller's views and the workspace's."""
    with transaction() as conn:
        return {"items": queries.list_views(conn, principal.workspace_id, principal.token_name)}


@router.post(
    "",
    status_code=http.HTTP_201_CREATED,
    response_model=SavedView,
    responses=errors(conflict="A view of that name exists", invalid="The query does not parse"),
)
def create_view(body: CreateView, principal: Viewer) -> ViewRow:
    """Save a search; `shared` views need the operator role."""
    search.parse(body.query)  # 422 naming the bad term
    if body.shared:
        require_role(Role.OPERATOR)(principal)
    owner = None if body.shared else principal.token_name
    with transaction() as conn:
        view = queries.insert_view(conn, principal.workspace_id, owner, body.name, body.query)
        record_audit(
            conn, principal, "view.create", "view", view.id, None, None, {"name": view.name}
        )
    return view


@router.delete(
    "/{view_id}",
    status_code=http.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(not_found="No such view of yours"),
)
def delete_view(view_id: uuid.UUID, principal: Viewer) -> Response:
    """Delete one of the caller's views, or (operator role) a shared one."""
    with transaction() as conn:
        view = queries.delete_view(
            conn,
            principal.workspace_id,
            principal.token_name,
            view_id,
            shared_too=principal.role.allows(Role.OPERATOR),
        )
        record_audit(
            conn, principal, "view.delete", "view", view.id, None, None, {"name": view.name}
        )
    return Response(status_code=http.HTTP_204_NO_CONTENT)
