"""Where the scheduler's event feed stands in `job_events`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, String
from sqlmodel import Field, SQLModel

from backend.columns import jsonb, server_now


class AutomationCursor(SQLModel, table=True):
    """The last event id a consumer handled, and the ids below it not yet seen (a transaction
    that took an id earlier may commit later): they are looked for again for a while."""

    __tablename__ = "automation_cursors"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    last_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    gaps: list[Any] = jsonb(nullable=False)  # [[event id, epoch seconds first missed], ...]
    updated_at: datetime = server_now()
