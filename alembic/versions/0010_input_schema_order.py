"""input schema order: workflow_versions.input_schema becomes `json`, and a `document` column
(`json`) holds the definition as the API shows it

jsonb stores an object's keys in its own order (shorter keys first), so a schema's properties
came back reordered and the new-job and Execute forms listed their fields in that order.
`json` keeps the text as written. `definition` stays jsonb: the engine's queries read it.
Versions stored before keep jsonb's order (`document` starts as a copy of `definition`) until
their definition is registered again (seeding does that): `register_workflow` then stores
both in the author's order (same content, same hash, same version).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column(
        "workflow_versions",
        "input_schema",
        type_=postgresql.JSON(astext_type=sa.Text()),
        existing_type=postgresql.JSONB(astext_type=sa.Text()),
        existing_nullable=False,
        postgresql_using="input_schema::json",
    )
    op.add_column("workflow_versions", sa.Column("document", postgresql.JSON(), nullable=True))
    op.execute("UPDATE workflow_versions SET document = definition::json")


def downgrade() -> None:
    op.drop_column("workflow_versions", "document")
    op.alter_column(
        "workflow_versions",
        "input_schema",
        type_=postgresql.JSONB(astext_type=sa.Text()),
        existing_type=postgresql.JSON(astext_type=sa.Text()),
        existing_nullable=False,
        postgresql_using="input_schema::jsonb",
    )
