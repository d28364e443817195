"""Column helpers shared by the table modules: database-clock timestamps, JSONB, UUID keys."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field


def pk() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def server_now() -> Any:
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False),
    )


def ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index)
    )


def jsonb(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSONB, nullable=nullable))


def fk(target: str, nullable: bool = False, ondelete: str = "CASCADE", index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(
            Uuid, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
        ),
    )
