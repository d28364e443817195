"""investigate runs: payload search indexes, reused steps, failure inbox, saved views

Revision ID: 0007
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None

FAILED = "status IN ('failed', 'timed_out')"


def upgrade() -> None:
    # jobs.metadata may also come from issue 11's migration: the same column either way
    op.execute(
        "ALTER TABLE jobs ADD COLUMN IF NOT EXISTS metadata jsonb NOT NULL DEFAULT '{}'::jsonb"
    )
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index("ix_jobs_input_payload", "jobs", ["input_payload"], postgresql_using="gin")
    op.create_index("ix_jobs_output_payload", "jobs", ["output_payload"], postgresql_using="gin")
    op.create_index("ix_jobs_metadata", "jobs", ["metadata"], postgresql_using="gin")
    op.create_index(
        "ix_jobs_error_trgm",
        "jobs",
        ["error_message"],
        postgresql_using="gin",
        postgresql_ops={"error_message": "gin_trgm_ops"},
    )
    op.create_index("ix_jobs_ws_cost", "jobs", ["workspace_id", "total_cost"])
    op.create_index(
        "ix_jobs_ws_duration", "jobs", ["workspace_id", sa.text("(completed_at - started_at)")]
    )
    for name, column in (("key", "step_key"), ("type", "error_type")):
        op.create_index(
            f"ix_job_steps_failed_{name}",
            "job_steps",
            ["workspace_id", column],
            postgresql_where=sa.text(FAILED),
        )
    op.create_index(
        "ix_job_steps_error_trgm",
        "job_steps",
        ["error_message"],
        postgresql_using="gin",
        postgresql_ops={"error_message": "gin_trgm_ops"},
        postgresql_where=sa.text(FAILED),
    )
    op.add_column("job_steps", sa.Column("reused_from_job_id", sa.Uuid(), nullable=True))
    op.add_column("job_steps", sa.Column("reused_from_step_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "job_steps_reused_from_job_id_fkey",
        "job_steps",
        "jobs",
        ["reused_from_job_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        "job_steps_reused_from_step_id_fkey",
        "job_steps",
        "job_steps",
        ["reused_from_step_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_table(
        "failure_groups",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("workspace_id", "fingerprint"),
    )
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_saved_views_name",
        "saved_views",
        ["workspace_id", sa.text("coalesce(owner, '')"), "name"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_saved_views_name", table_name="saved_views")
    op.drop_table("saved_views")
    op.drop_table("failure_groups")
    op.drop_constraint("job_steps_reused_from_step_id_fkey", "job_steps", type_="foreignkey")
    op.drop_constraint("job_steps_reused_from_job_id_fkey", "job_steps", type_="foreignkey")
    op.drop_column("job_steps", "reused_from_step_id")
    op.drop_column("job_steps", "reused_from_job_id")
    for name, table in (
        ("ix_job_steps_error_trgm", "job_steps"),
        ("ix_job_steps_failed_type", "job_steps"),
        ("ix_job_steps_failed_key", "job_steps"),
        ("ix_jobs_ws_duration", "jobs"),
        ("ix_jobs_ws_cost", "jobs"),
        ("ix_jobs_error_trgm", "jobs"),
        ("ix_jobs_metadata", "jobs"),
        ("ix_jobs_output_payload", "jobs"),
        ("ix_jobs_input_payload", "jobs"),
    ):
        op.drop_index(name, table_name=table)
    op.execute("ALTER TABLE jobs DROP COLUMN IF EXISTS metadata")
