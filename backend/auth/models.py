"""Workspaces, API tokens and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Index, String, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from backend.columns import fk, jsonb, pk, server_now, ts


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"

    id: uuid.UUID = pk()
    slug: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    name: str = Field(max_length=200)
    created_at: datetime = server_now()
    # raw secrets in API reads of inputs and logs for operators and admins (viewers never)
    operators_see_secrets: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_api_tokens_workspace_name"),
    )

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id", index=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=16)
    prefix: str = Field(max_length=16, index=True)
    token_hash: str = Field(sa_column=Column(String(128), unique=True, nullable=False))
    created_at: datetime = server_now()
    last_used_at: datetime | None = ts()
    revoked_at: datetime | None = ts()
    # may act in every workspace (made only on the server: `token create --instance-admin`)
    instance_admin: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_workspace_created", "workspace_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: uuid.UUID = fk("workspaces.id")
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64)
    target_type: str = Field(max_length=32)
    target_id: str | None = Field(default=None, max_length=64)
    status_before: str | None = Field(default=None, max_length=32)
    status_after: str | None = Field(default=None, max_length=32)
    data: dict[str, Any] | None = jsonb()
    created_at: datetime = server_now()
