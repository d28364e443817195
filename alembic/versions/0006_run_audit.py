"""run audit: requester, mode, item, expected work and segments per job; the reaper's passes

Revision ID: 0006
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("requested_by", sa.String(length=200), nullable=True))
    op.add_column(
        "jobs",
        sa.Column(
            "run_mode", sa.String(length=16), server_default="global_batch", nullable=False
        ),
    )
    op.add_column("jobs", sa.Column("item_id", sa.String(length=200), nullable=True))
    op.add_column(
        "jobs", sa.Column("expected_work", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column(
        "jobs", sa.Column("run_segments", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.create_table(
        "reaper_passes",
        sa.Column("reaper", sa.String(length=200), nullable=False),
        sa.Column(
            "last_pass_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("passes", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("recovered_total", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_recovery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_recovered", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("reaper"),
    )


def downgrade() -> None:
    op.drop_table("reaper_passes")
    for column in ("run_segments", "expected_work", "item_id", "run_mode", "requested_by"):
        op.drop_column("jobs", column)
