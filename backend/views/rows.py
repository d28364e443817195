"""Rows of the saved views' queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ViewRow:
    id: uuid.UUID
    owner: str | None  # a token name; None: shared with the workspace
    name: str
    query: str
    created_at: datetime
