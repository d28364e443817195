"""Request and response shapes of the budgets API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from backend.budgets.rows import Period


class BudgetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow: str | None = Field(
        default=None, min_length=1, max_length=100, description="Id or name; omit: the workspace."
    )
    period: Period
    limit_usd: Decimal = Field(gt=0, le=10**9, decimal_places=6)
    warn_percent: float = Field(default=80, gt=0, le=100)
    block: bool = Field(default=False, description="Refuse new jobs (429) once the limit is spent.")


class Budget(BaseModel):
    id: uuid.UUID
    workflow_id: uuid.UUID | None
    workflow_name: str | None
    period: Period
    limit_usd: float
    warn_percent: float
    block: bool
    period_start: datetime
    resets_at: datetime
    spent_usd: float
    percent: float
    created_at: datetime


class BudgetList(BaseModel):
    items: list[Budget]


class DaySpend(BaseModel):
    day: date
    spent_usd: float


class DailySpend(BaseModel):
    budget_id: uuid.UUID
    items: list[DaySpend] = Field(description="Spend per UTC day, oldest first.")
