"""Apply and inspect the Alembic migrations from code (`jobmonitor migrate`, `up`, tests).

The scripts live in the checkout's top-level `alembic/`; an installed wheel carries them as
`backend/migration_scripts/` (setup.py copies them there), so this works from either.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from backend.db import pooler_kwargs, sqlalchemy_url

PACKAGED_SCRIPTS = Path(__file__).resolve().parent / "migration_scripts"
CHECKOUT_SCRIPTS = Path(__file__).resolve().parent.parent / "alembic"


def script_location() -> Path:
    """The migration scripts: the wheel's copy when installed, else the checkout's."""
    return PACKAGED_SCRIPTS if PACKAGED_SCRIPTS.is_dir() else CHECKOUT_SCRIPTS


def alembic_config(url: str) -> Config:
    # No alembic.ini: it only serves the `alembic` command in a checkout (and its logging
    # section is never read from code), and a wheel does not carry it.
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    engine = create_engine(
        sqlalchemy_url(url), poolclass=pool.NullPool, connect_args=pooler_kwargs()
    )
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()
