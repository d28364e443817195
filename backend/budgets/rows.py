"""The rows of the budgets domain."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class DaySpend:
    day: date
    spent_usd: Decimal


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class BudgetRow:
    """A budget with its spend in the current period."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    workflow_id: uuid.UUID | None
    workflow_name: str | None
    period: str
    limit_usd: Decimal
    warn_percent: float
    block: bool
    created_at: datetime
    period_start: datetime
    resets_at: datetime
    spent_usd: Decimal

    @property
    def percent(self) -> float:
        return float(self.spent_usd / self.limit_usd * 100) if self.limit_usd else 0.0
