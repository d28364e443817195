"""The rows the reviews domain's queries return: frozen, typed, straight from the cursor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """A gate's review with its counts (`undecided` is the rest)."""

    id: uuid.UUID
    job_id: uuid.UUID
    step_id: uuid.UUID
    step_key: str
    items_from: str
    status: str
    editable: dict[str, Any]
    submitted_by: str | None
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    step_name: str
    step_status: str
    total: int
    approved: int
    rejected: int

    @property
    def undecided(self) -> int:
        return self.total - self.approved - self.rejected


@dataclass(frozen=True, slots=True)
class ReviewItemRow:
    """An item under review: as proposed (`original`), as patched (`item`), its decision."""

    item_id: str
    position: int
    item: dict[str, Any]
    original: dict[str, Any]
    decision: str | None
    note: str | None
    decided_by: str | None
    decided_at: datetime | None
