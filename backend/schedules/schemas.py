"""Request and response shapes of the schedules API; requests refuse unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.schedules.rows import Catchup, Overlap
from backend.schedules.timing import cron_problem, timezone_problem

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class _Timing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("cron", check_fields=False)
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        problem = None if value is None else cron_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        problem = None if value is None else timezone_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class ScheduleCreate(_Timing):
    workflow: str = Field(min_length=1, max_length=100, description="The workflow's id or name.")
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    cron: str | None = Field(
        default=None,
        max_length=200,
        description="Cron expression (5 fields; a 6th is seconds), in `timezone`.",
    )
    interval_seconds: float | None = Field(default=None, ge=1, le=366 * 86400)
    timezone: str = Field(default="UTC", max_length=64)
    input_payload: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    overlap: Overlap = Overlap.SKIP
    catchup: Catchup = Catchup.NONE
    catchup_max: int = Field(default=10, ge=1, le=1000, description="For catchup=all.")
    jitter_seconds: float = Field(default=0, ge=0, le=3600)

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleCreate:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError("give exactly one of cron or interval_seconds")
        return self


class ScheduleUpdate(_Timing):
    """Only the fields given change. Giving cron clears interval_seconds and vice versa."""

    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    cron: str | None = Field(default=None, max_length=200)
    interval_seconds: float | None = Field(default=None, ge=1, le=366 * 86400)
    timezone: str | None = Field(default=None, max_length=64)
    input_payload: dict[str, Any] | None = None
    enabled: bool | None = None
    overlap: Overlap | None = None
    catchup: Catchup | None = None
    catchup_max: int | None = Field(default=None, ge=1, le=1000)
    jitter_seconds: float | None = Field(default=None, ge=0, le=3600)

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleUpdate:
        if self.cron is not None and self.interval_seconds is not None:
            raise ValueError("give at most one of cron or interval_seconds")
        return self


class Schedule(BaseModel):
    id: uuid.UUID
    workflow_id: uuid.UUID
    workflow_name: str
    name: str
    cron: str | None
    interval_seconds: float | None
    timezone: str
    input_payload: dict[str, Any]
    enabled: bool
    overlap: Overlap
    catchup: Catchup
    catchup_max: int
    jitter_seconds: float
    next_due_at: datetime | None = Field(description="The next due time (null while paused).")
    last_fired_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ScheduleList(BaseModel):
    items: list[Schedule]


class NextTimes(BaseModel):
    schedule_id: uuid.UUID
    timezone: str
    times: list[datetime] = Field(description="The next due times, in UTC.")


class Fire(BaseModel):
    id: uuid.UUID
    due_at: datetime
    status: str = Field(description="started, queued, skipped or refused")
    job_id: uuid.UUID | None
    job_status: str | None
    reason: str | None
    created_at: datetime


class FireList(BaseModel):
    items: list[Fire]
