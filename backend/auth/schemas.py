"""Request and response shapes of tokens and workspaces."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from backend.auth.service import SLUG_PATTERN, Role


class CreateTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")
    role: Role


class TokenInfo(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    role: Role
    prefix: str = Field(description="Public part: tokens look like jm_<prefix>_<secret>.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    instance_admin: bool = Field(
        default=False, description="May act in every workspace (made only on the server)."
    )


class CreatedToken(TokenInfo):
    token: str = Field(
        description="The token itself. It is shown this once and stored only as a hash."
    )


class TokenList(BaseModel):
    items: list[TokenInfo]


class CreateWorkspaceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN)
    name: str | None = Field(default=None, min_length=1, max_length=200)


class Workspace(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime


class WorkspaceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operators_see_secrets: bool = Field(
        description="Operators and admins read raw inputs, outputs, logs and errors through the "
        "API; viewers always read them redacted, and the export is always redacted."
    )


class WorkspaceList(BaseModel):
    items: list[Workspace]


class Me(BaseModel):
    token_id: uuid.UUID
    token_name: str
    role: Role
    workspace: Workspace
    home_workspace_id: uuid.UUID
    instance_admin: bool = Field(
        default=False, description="The token may act in every workspace (X-Workspace-*)."
    )
