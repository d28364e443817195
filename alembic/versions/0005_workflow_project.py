"""workflows.project_id: the project a workflow is tagged with (seeding's --project-id)

Revision ID: 0005
Revises: 0001
Create Date: 2026-12-01 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "workflows",
        sa.Column("project_id", sa.String(length=100), server_default="default", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("workflows", "project_id")
