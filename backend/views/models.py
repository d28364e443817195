"""Saved views: a named job search of one person (a token name) or of the whole workspace."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from backend.columns import fk, pk, server_now


class SavedView(SQLModel, table=True):
    __tablename__ = "saved_views"
    __table_args__ = (
        Index(
            "uq_saved_views_name",
            "workspace_id",
            text("coalesce(owner, '')"),
            "name",
            unique=True,
        ),
    )

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id")
    owner: str | None = Field(default=None, max_length=100)
    name: str = Field(max_length=100)
    query: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = server_now()
