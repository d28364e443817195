"""investigate runs: payload search indexes, reused steps, failure inbox, saved views

Revision ID: 0007
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None

FAILED = "status IN ('failed', 'timed_out')"

# an error message with ids, hex and numbers replaced: "row 17 failed" and "row 18 failed" group
NORMALISE_FUNCTION = r"""
CREATE FUNCTION jm_error_norm(message text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT left(regexp_replace(regexp_replace(regexp_replace(coalesce(message, ''),
        '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<id>', 'g'),
        '0x[0-9a-fA-F]+', '<hex>', 'g'), '[0-9]+(\.[0-9]+)?', '<n>', 'g'), 300)
$$;
"""

# A step that fails is one occurrence of its failure group (workflow, step, error type,
# normalised message): the step gets the group's fingerprint, the group its count, first and
# last seen, and the day its count (the trend); the job gets the failed step and error type
# (what `failed_step=` and `error_type=` search). Counted once per failure, like job_counts.
FAILURE_FUNCTION = """
CREATE FUNCTION jm_failure_seen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wf uuid;
    msg text;
    fp text;
    seen timestamptz;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status IN ('failed', 'timed_out') THEN
        RETURN NEW;
    END IF;
    SELECT workflow_id INTO wf FROM jobs WHERE id = NEW.job_id;
    msg := jm_error_norm(NEW.error_message);
    fp := md5(wf::text || '|' || NEW.step_key || '|' || coalesce(NEW.error_type, '') || '|' || msg);
    seen := coalesce(NEW.completed_at, now());
    NEW.error_fingerprint := fp;
    UPDATE jobs SET failed_step = NEW.step_key, error_type = NEW.error_type WHERE id = NEW.job_id;
    INSERT INTO failure_groups AS g (workspace_id, fingerprint, workflow_id, step_key, error_type,
                                     message, count, first_seen, last_seen)
    VALUES (NEW.workspace_id, fp, wf, NEW.step_key, NEW.error_type, msg, 1, seen, seen)
    ON CONFLICT (workspace_id, fingerprint) DO UPDATE
    SET count = g.count + 1, first_seen = least(g.first_seen, seen),
        last_seen = greatest(g.last_seen, seen);
    INSERT INTO failure_days AS d (workspace_id, fingerprint, day, n)
    VALUES (NEW.workspace_id, fp, (seen AT TIME ZONE 'UTC')::date, 1)
    ON CONFLICT (workspace_id, fingerprint, day) DO UPDATE SET n = d.n + 1;
    RETURN NEW;
END
$$;
"""


def upgrade() -> None:
    # jobs.metadata may also come from issue 11's migration: the same column either way
    op.execute(
        "ALTER TABLE jobs ADD COLUMN IF NOT EXISTS metadata jsonb NOT NULL DEFAULT '{}'::jsonb"
    )
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # jsonb_path_ops: one entry per path and value, so `input.records=7` reads the postings of
    # exactly that pair (jsonb_ops would intersect "records" with every 7 anywhere)
    for name, column in (
        ("ix_jobs_input_payload", "input_payload"),
        ("ix_jobs_output_payload", "output_payload"),
        ("ix_jobs_metadata", "metadata"),
    ):
        op.create_index(
            name,
            "jobs",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "jsonb_path_ops"},
        )
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
    op.add_column("jobs", sa.Column("failed_step", sa.String(length=100), nullable=True))
    op.add_column("jobs", sa.Column("error_type", sa.String(length=200), nullable=True))
    for column in ("failed_step", "error_type"):
        op.create_index(
            f"ix_jobs_ws_{column}",
            "jobs",
            ["workspace_id", column, sa.text("created_at DESC"), sa.text("id DESC")],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )
    op.execute(
        "UPDATE jobs j SET failed_step = s.step_key, error_type = s.error_type"
        f" FROM job_steps s WHERE s.job_id = j.id AND s.{FAILED}"
    )
    op.add_column("job_steps", sa.Column("error_fingerprint", sa.String(length=32), nullable=True))
    op.create_index(
        "ix_job_steps_fingerprint",
        "job_steps",
        ["workspace_id", "error_fingerprint"],
        postgresql_where=sa.text("error_fingerprint IS NOT NULL"),
    )
    op.create_table(
        "failure_groups",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("step_key", sa.String(length=100), nullable=False),
        sa.Column("error_type", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflows.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("workspace_id", "fingerprint"),
    )
    op.create_index("ix_failure_groups_last_seen", "failure_groups", ["workspace_id", "last_seen"])
    op.create_table(
        "failure_days",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "fingerprint"],
            ["failure_groups.workspace_id", "failure_groups.fingerprint"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "fingerprint", "day"),
    )
    op.execute(NORMALISE_FUNCTION)
    op.execute(FAILURE_FUNCTION)
    op.execute(
        "CREATE TRIGGER job_steps_failures BEFORE INSERT OR UPDATE OF status ON job_steps"
        f" FOR EACH ROW WHEN (NEW.{FAILED}) EXECUTE FUNCTION jm_failure_seen()"
    )
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
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
    op.execute("DROP TRIGGER job_steps_failures ON job_steps")
    op.execute("DROP FUNCTION jm_failure_seen()")
    op.execute("DROP FUNCTION jm_error_norm(text)")
    op.drop_table("failure_days")
    op.drop_index("ix_failure_groups_last_seen", table_name="failure_groups")
    op.drop_table("failure_groups")
    op.drop_index("ix_job_steps_fingerprint", table_name="job_steps")
    op.drop_index("ix_jobs_ws_error_type", table_name="jobs")
    op.drop_index("ix_jobs_ws_failed_step", table_name="jobs")
    op.drop_column("jobs", "error_type")
    op.drop_column("jobs", "failed_step")
    op.drop_column("job_steps", "error_fingerprint")
    op.drop_constraint("job_steps_reused_from_step_id_fkey", "job_steps", type_="foreignkey")
    op.drop_constraint("job_steps_reused_from_job_id_fkey", "job_steps", type_="foreignkey")
    op.drop_column("job_steps", "reused_from_step_id")
    op.drop_column("job_steps", "reused_from_job_id")
    for name, table in (
        ("ix_jobs_ws_duration", "jobs"),
        ("ix_jobs_ws_cost", "jobs"),
        ("ix_jobs_error_trgm", "jobs"),
        ("ix_jobs_metadata", "jobs"),
        ("ix_jobs_output_payload", "jobs"),
        ("ix_jobs_input_payload", "jobs"),
    ):
        op.drop_index(name, table_name=table)
    # jobs.metadata belongs to migration 0004 (human steps), which drops it
