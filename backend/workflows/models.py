"""Workflows and their immutable versions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSON
from sqlmodel import Field, SQLModel

from backend.columns import fk, jsonb, pk, server_now


class Workflow(SQLModel, table=True):
    __tablename__ = "workflows"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_workflows_workspace_name"),)

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id", index=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    # a tag, not a scope: the project the seeding command was given (`default` otherwise)
    project_id: str = Field(
        default="default",
        sa_column=Column(String(100), nullable=False, server_default="default"),
    )
    latest_version: int = Field(default=1)
    execution_count: int = Field(default=0)
    created_at: datetime = server_now()
    updated_at: datetime = server_now()


class WorkflowVersion(SQLModel, table=True):
    """A definition never changes once stored: a job points at the version it ran."""

    __tablename__ = "workflow_versions"
    __table_args__ = (UniqueConstraint("workflow_id", "version", name="uq_workflow_versions"),)

    id: uuid.UUID = pk()
    workflow_id: uuid.UUID = fk("workflows.id")
    version: int
    definition: dict[str, Any] = jsonb(nullable=False)
    # `json`, not `jsonb`: the document as written, so its properties keep the author's order
    # (jsonb reorders an object's keys; the new-job form lists the fields in this order)
    input_schema: dict[str, Any] = Field(default=None, sa_column=Column(JSON, nullable=False))
    # the definition as the API shows it, in `json` for the same reason (the step forms'
    # schemas, params); `definition` (jsonb) is what the engine's queries read
    document: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    concurrency: dict[str, Any] = jsonb(nullable=False)
    definition_hash: str = Field(max_length=64)
    created_at: datetime = server_now()
