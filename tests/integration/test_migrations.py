"""The migrations build exactly the models' schema, and come down cleanly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from psycopg.rows import dict_row
from sqlalchemy import create_engine, pool

from backend import migrations
from backend.db import sqlalchemy_url
from backend.models import metadata
from tests.conftest import ADMIN_URL, _db_url


@pytest.fixture
def empty_db() -> Iterator[str]:
    name = f"jmt_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _db_url(name)
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _differences(url: str) -> list[object]:
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_upgrade_matches_models_and_downgrade_is_clean(empty_db: str) -> None:
    migrations.upgrade(empty_db)
    assert migrations.current_revision(empty_db) == migrations.head_revision(empty_db)
    assert _differences(empty_db) == []
    migrations.downgrade(empty_db, "base")
    with psycopg.connect(empty_db) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        functions = conn.execute(
            "SELECT proname FROM pg_proc WHERE proname = 'jm_job_counts'"
        ).fetchall()
    assert [t[0] for t in tables] == ["alembic_version"]
    assert functions == []
    migrations.upgrade(empty_db)
    assert _differences(empty_db) == []


def test_existing_tokens_are_migrated_confined(empty_db: str) -> None:
    migrations.upgrade(empty_db, "0001")
    with psycopg.connect(empty_db, autocommit=True, row_factory=dict_row) as conn:
        ws = uuid.uuid4()
        conn.execute("INSERT INTO workspaces (id, slug, name) VALUES (%s, 'w', 'w')", (ws,))
        conn.execute(
            "INSERT INTO api_tokens (id, workspace_id, name, role, prefix, token_hash) "
            "VALUES (%s, %s, 'old-admin', 'admin', 'abcdef01', 'h')",
            (uuid.uuid4(), ws),
        )
    migrations.upgrade(empty_db)
    with psycopg.connect(empty_db, row_factory=dict_row) as conn:
        row = conn.execute("SELECT role, instance_admin FROM api_tokens").fetchone()
        setting = conn.execute("SELECT operators_see_secrets FROM workspaces").fetchone()
    assert row == {"role": "admin", "instance_admin": False}
    assert setting == {"operators_see_secrets": False}
