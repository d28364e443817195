"""Alembic environment: the URL comes from the config (`sqlalchemy.url`, set by
`backend.migrations`) or from JOBMONITOR_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from backend.db import pooler_kwargs, sqlalchemy_url
from backend.models import metadata
from backend.settings import get_settings

config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or get_settings().require_database_url()
    return sqlalchemy_url(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool, connect_args=pooler_kwargs())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
