"""instance-admin tokens; a workspace's choice whether operators see secrets

Revision ID: 0003
Revises: 0001

Existing tokens are migrated confined: every token, admin ones included, keeps its role in
its own workspace and nothing more (no token gains a right). An instance admin is made only
on the server (`jobmonitor token create --instance-admin`, or the first admin of `jobmonitor
up`). Workspaces start with secrets redacted for everyone who reads through the API.
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "api_tokens",
        sa.Column("instance_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "workspaces",
        sa.Column("operators_see_secrets", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("workspaces", "operators_see_secrets")
    op.drop_column("api_tokens", "instance_admin")
