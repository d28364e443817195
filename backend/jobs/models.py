"""Jobs, their steps, every attempt of a step, and what attempts record (logs, costs, metrics),
plus the append-only event table and the per-status counters the list tabs read."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Identity,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from backend.columns import fk, jsonb, pk, server_now, ts
from backend.jobs.states import A, S, sql_list, sql_literal

# a step that ended the job's run (the failure inbox reads these)
FAILED_STEP = f"status IN {sql_list(S.FAILED, S.TIMED_OUT)}"


def _money() -> Any:
    return Field(
        default=Decimal(0), sa_column=Column(Numeric(16, 6), nullable=False, server_default="0")
    )


def _bigserial() -> Any:
    return Field(
        default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True)
    )


class Job(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (
        Index(
            "ix_jobs_ws_status_created",
            "workspace_id",
            "status",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index("ix_jobs_ws_created", "workspace_id", text("created_at DESC"), text("id DESC")),
        Index("ix_jobs_workflow_created", "workflow_id", text("created_at DESC"), text("id DESC")),
        Index(
            "ix_jobs_input_payload",
            "input_payload",
            postgresql_using="gin",
            postgresql_ops={"input_payload": "jsonb_path_ops"},
        ),
        Index(
            "ix_jobs_output_payload",
            "output_payload",
            postgresql_using="gin",
            postgresql_ops={"output_payload": "jsonb_path_ops"},
        ),
        Index(
            "ix_jobs_metadata",
            "metadata",
            postgresql_using="gin",
            postgresql_ops={"metadata": "jsonb_path_ops"},
        ),
        Index(
            "ix_jobs_error_trgm",
            "error_message",
            postgresql_using="gin",
            postgresql_ops={"error_message": "gin_trgm_ops"},
        ),
        Index("ix_jobs_ws_cost", "workspace_id", "total_cost"),
        *(
            Index(
                f"ix_jobs_ws_{column}",
                "workspace_id",
                column,
                text("created_at DESC"),
                text("id DESC"),
                postgresql_where=text(f"{column} IS NOT NULL"),
            )
            for column in ("failed_step", "error_type")
        ),
        Index("ix_jobs_ws_duration", "workspace_id", text("(completed_at - started_at)")),
        Index(
            "ix_jobs_waiting",
            "workspace_id",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text("waiting_for IS NOT NULL"),
        ),
        Index(
            "uq_jobs_ws_idempotency",
            "workspace_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id")
    workflow_id: uuid.UUID = fk("workflows.id")
    workflow_version_id: uuid.UUID = fk("workflow_versions.id")
    execution_number: int
    status: str = Field(max_length=16)
    input_payload: dict[str, Any] = jsonb(nullable=False)
    output_payload: dict[str, Any] | None = jsonb()
    error_message: str | None = Field(default=None, sa_column=Column(Text))
    idempotency_key: str | None = Field(default=None, max_length=255)
    payload_hash: str = Field(max_length=64)
    progress: float = Field(default=0.0)
    current_step: str | None = Field(default=None, max_length=100)
    step_count: int = Field(default=0)
    steps_done: int = Field(default=0)
    rerun_of: uuid.UUID | None = fk("jobs.id", nullable=True, ondelete="SET NULL")
    total_cost: Decimal = _money()
    state_before: dict[str, Any] | None = jsonb()
    state_after: dict[str, Any] | None = jsonb()
    delta: dict[str, Any] | None = jsonb()
    # the step that failed the job and its error type (set by the failure trigger, 0007)
    failed_step: str | None = Field(default=None, max_length=100)
    error_type: str | None = Field(default=None, max_length=200)
    # the run audit (backend/runs): who asked, in which mode, for which item; the pending-work
    # estimate at the first start; one segment per start (the first run and each resume)
    requested_by: str | None = Field(default=None, max_length=200)
    run_mode: str = Field(
        default="global_batch",
        sa_column=Column(String(16), nullable=False, server_default="global_batch"),
    )
    item_id: str | None = Field(default=None, max_length=200)
    expected_work: dict[str, Any] | None = jsonb()
    run_segments: list[dict[str, Any]] | None = jsonb()
    created_at: datetime = server_now()
    started_at: datetime | None = ts()
    completed_at: datetime | None = ts()
    updated_at: datetime = server_now()
    # the caller's own notes (`metadata` in the API; the name is SQLAlchemy's own attribute)
    job_metadata: dict[str, Any] = Field(
        default=None,
        sa_column=Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )
    draft_state: str = Field(
        default="none", sa_column=Column(String(16), nullable=False, server_default="none")
    )
    waiting_for: str | None = Field(default=None, max_length=16)  # manual | review, while waiting


class JobStep(SQLModel, table=True):
    """One step of one job. Looked up by (job_id, step_key): a job's steps are few, so the
    unique index also serves "in step order"; fewer indexes keep the hot updates cheap."""

    __tablename__ = "job_steps"
    __table_args__ = (
        UniqueConstraint("job_id", "step_key", name="uq_job_steps_job_key"),
        Index(
            "ix_job_steps_retry_due",
            "next_attempt_at",
            postgresql_where=text(f"status = {sql_literal(S.RETRYING)}"),
        ),
        Index(
            "ix_job_steps_timed_out",
            "job_id",
            postgresql_where=text(f"status = {sql_literal(S.TIMED_OUT)}"),
        ),
        Index(
            "ix_job_steps_fingerprint",
            "workspace_id",
            "error_fingerprint",
            postgresql_where=text("error_fingerprint IS NOT NULL"),
        ),
    )

    id: uuid.UUID = pk()
    job_id: uuid.UUID = fk("jobs.id")
    workspace_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    step_key: str = Field(max_length=100)
    step_index: int
    name: str = Field(max_length=200)
    action: str = Field(max_length=200)
    status: str = Field(max_length=16)
    params: dict[str, Any] = jsonb(nullable=False)
    depends_on: list[str] = jsonb(nullable=False)
    condition: str | None = Field(default=None, sa_column=Column(Text))
    retry: dict[str, Any] = jsonb(nullable=False)
    timeout_seconds: float | None = None
    input_data: dict[str, Any] | None = jsonb()
    output_data: Any = jsonb()
    error_message: str | None = Field(default=None, sa_column=Column(Text))
    error_type: str | None = Field(default=None, max_length=200)
    attempt_count: int = Field(default=0)
    max_attempts: int = Field(default=1)
    progress: float = Field(default=0.0)
    cost_usd: Decimal = _money()
    next_attempt_at: datetime | None = ts()
    started_at: datetime | None = ts()
    completed_at: datetime | None = ts()
    duration_seconds: float | None = None
    reused_from_job_id: uuid.UUID | None = fk("jobs.id", nullable=True, ondelete="SET NULL")
    reused_from_step_id: uuid.UUID | None = fk("job_steps.id", nullable=True, ondelete="SET NULL")
    # set by the failure trigger (migration 0007) when the step fails: its failure group
    error_fingerprint: str | None = Field(default=None, max_length=32)
    created_at: datetime = server_now()
    updated_at: datetime = server_now()
    run: str = Field(
        default="auto", sa_column=Column(String(16), nullable=False, server_default="auto")
    )
    auto_when: str | None = Field(default=None, sa_column=Column(Text))


class StepAttempt(SQLModel, table=True):
    """One try of a step. Its id is the rq job id that carries it."""

    __tablename__ = "step_attempts"
    __table_args__ = (
        UniqueConstraint("step_id", "attempt_number", name="uq_step_attempts_number"),
        Index("ix_step_attempts_job", "job_id", "step_id", "attempt_number"),
        Index(
            "ix_step_attempts_lease",
            "lease_expires_at",
            postgresql_where=text(f"status = {sql_literal(A.RUNNING)}"),
        ),
        Index(
            "ix_step_attempts_queued",
            "created_at",
            postgresql_where=text(f"status = {sql_literal(A.QUEUED)}"),
        ),
        Index(
            "uq_step_attempts_idempotency",
            "step_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    id: uuid.UUID = pk()
    job_id: uuid.UUID = fk("jobs.id")
    step_id: uuid.UUID = fk("job_steps.id")
    workspace_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    step_key: str = Field(max_length=100)
    attempt_number: int
    status: str = Field(max_length=16)
    worker_name: str | None = Field(default=None, max_length=200)
    pid: int | None = None
    lease_token: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid))
    lease_expires_at: datetime | None = ts()
    heartbeat_at: datetime | None = ts()
    created_at: datetime = server_now()
    started_at: datetime | None = ts()
    finished_at: datetime | None = ts()
    duration_seconds: float | None = None
    error_type: str | None = Field(default=None, max_length=200)
    error_message: str | None = Field(default=None, sa_column=Column(Text))
    traceback: str | None = Field(default=None, sa_column=Column(Text))
    cost_usd: Decimal = _money()
    updated_at: datetime = server_now()
    # a person's execution of a manual step (its first attempt carries them)
    idempotency_key: str | None = Field(default=None, max_length=255)
    payload_hash: str | None = Field(default=None, max_length=64)
    executed_by: str | None = Field(default=None, max_length=200)


class StepLog(SQLModel, table=True):
    __tablename__ = "step_logs"
    __table_args__ = (Index("ix_step_logs_job", "job_id", "id"),)

    id: int | None = _bigserial()
    job_id: uuid.UUID = fk("jobs.id")
    step_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    attempt_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    level: str = Field(max_length=10)
    message: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = server_now()


class StepCost(SQLModel, table=True):
    __tablename__ = "step_costs"
    __table_args__ = (Index("ix_step_costs_created", "created_at"),)  # budgets: spend per period

    id: int | None = _bigserial()
    job_id: uuid.UUID = fk("jobs.id", index=True)
    step_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    attempt_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    kind: str = Field(max_length=16)
    provider: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    tokens_in: int = Field(default=0)
    tokens_out: int = Field(default=0)
    amount_usd: Decimal = _money()
    created_at: datetime = server_now()


class StepMetric(SQLModel, table=True):
    __tablename__ = "step_metrics"

    id: int | None = _bigserial()
    job_id: uuid.UUID = fk("jobs.id", index=True)
    step_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    attempt_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    name: str = Field(max_length=100)
    value: float
    unit: str | None = Field(default=None, max_length=32)
    created_at: datetime = server_now()


class JobEvent(SQLModel, table=True):
    """Append-only: every status change, in commit order of its id."""

    __tablename__ = "job_events"
    __table_args__ = (
        Index("ix_job_events_job", "job_id", "id"),
        Index("ix_job_events_workspace", "workspace_id", "id"),
    )

    id: int | None = _bigserial()
    workspace_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    job_id: uuid.UUID = fk("jobs.id")
    workflow_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    type: str = Field(max_length=32)
    step_key: str | None = Field(default=None, max_length=100)
    attempt_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid))
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    data: dict[str, Any] | None = jsonb()
    created_at: datetime = server_now()


class JobCount(SQLModel, table=True):
    """Jobs per (workspace, workflow, status), kept by a trigger on `jobs`: tab counts and
    workflow summaries read these rows instead of counting the table."""

    __tablename__ = "job_counts"

    workspace_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    workflow_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    status: str = Field(sa_column=Column(String(16), primary_key=True))
    n: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


class ReaperPass(SQLModel, table=True):
    """The latest pass of each reaper process, and the latest pass that recovered something:
    what `doctor` shows of the reaper. One row per reaper, updated in place."""

    __tablename__ = "reaper_passes"

    reaper: str = Field(primary_key=True, max_length=200)
    last_pass_at: datetime = server_now()
    passes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    recovered_total: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    last_recovery_at: datetime | None = ts()
    last_recovered: dict[str, Any] | None = jsonb()
