"""Cost budgets of a workspace or one workflow, per UTC day or month, in USD of recorded step
costs."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.columns import fk, pk, server_now


class Budget(SQLModel, table=True):
    __tablename__ = "budgets"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id",
            "workflow_id",
            "period",
            name="uq_budgets_scope",
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id")
    workflow_id: uuid.UUID | None = fk("workflows.id", nullable=True)  # None: the workspace
    period: str = Field(max_length=8)  # day, month
    limit_usd: Decimal = Field(sa_column=Column(Numeric(16, 6), nullable=False))
    warn_percent: float = Field(default=80.0)
    block: bool = Field(default=False)  # refuse new jobs once the limit is spent
    created_at: datetime = server_now()
