"""human steps: manual steps, review gates, draft state and job metadata

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "jobs",
        sa.Column(
            "metadata",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "jobs", sa.Column("draft_state", sa.String(16), server_default="none", nullable=False)
    )
    op.add_column("jobs", sa.Column("waiting_for", sa.String(16), nullable=True))
    op.create_index(
        "ix_jobs_waiting",
        "jobs",
        ["workspace_id", sa.text("created_at DESC"), sa.text("id DESC")],
        postgresql_where=sa.text("waiting_for IS NOT NULL"),
    )
    op.add_column(
        "job_steps", sa.Column("run", sa.String(16), server_default="auto", nullable=False)
    )
    op.add_column("job_steps", sa.Column("auto_when", sa.Text(), nullable=True))
    op.add_column("step_attempts", sa.Column("idempotency_key", sa.String(255), nullable=True))
    op.add_column("step_attempts", sa.Column("payload_hash", sa.String(64), nullable=True))
    op.add_column("step_attempts", sa.Column("executed_by", sa.String(200), nullable=True))
    op.create_index(
        "uq_step_attempts_idempotency",
        "step_attempts",
        ["step_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_table(
        "job_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.Uuid(), nullable=False),
        sa.Column("step_key", sa.String(100), nullable=False),
        sa.Column("items_from", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("editable", postgresql.JSONB(), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["step_id"], ["job_steps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("step_id", name="uq_job_reviews_step"),
    )
    op.create_index("ix_job_reviews_job_id", "job_reviews", ["job_id"])
    op.create_table(
        "review_items",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("review_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("original", postgresql.JSONB(), nullable=False),
        sa.Column("item", postgresql.JSONB(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["job_reviews.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("review_id", "item_id", name="uq_review_items_item"),
    )


def downgrade() -> None:
    op.drop_table("review_items")
    op.drop_index("ix_job_reviews_job_id", table_name="job_reviews")
    op.drop_table("job_reviews")
    op.drop_index("uq_step_attempts_idempotency", table_name="step_attempts")
    for column in ("executed_by", "payload_hash", "idempotency_key"):
        op.drop_column("step_attempts", column)
    op.drop_column("job_steps", "auto_when")
    op.drop_column("job_steps", "run")
    op.drop_index("ix_jobs_waiting", table_name="jobs")
    for column in ("waiting_for", "draft_state", "metadata"):
        op.drop_column("jobs", column)
