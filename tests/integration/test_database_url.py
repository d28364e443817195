"""JOBMONITOR_DATABASE_URL in either form people write (libpq's `postgresql://` and
SQLAlchemy's `postgresql+psycopg://`) works for every entry point: the server-side commands,
a worker, the API's pool, the private-server finder `up` uses, and the migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from backend import migrations
from backend.db import api_pool, close_api_pool, connect, sqlalchemy_url, worker_connection
from backend.settings import Settings, get_settings, normalize_database_url, reset_settings
from cli.services.postgres import ensure_postgres
from tests.integration.conftest import Engine, chain


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5/db", "postgresql://u@h:5/db"),
        (
            "postgresql+psycopg://u:p@h:5/db?sslmode=disable",
            "postgresql://u:p@h:5/db?sslmode=disable",
        ),
        ("postgresql+psycopg2://u@h/db", "postgresql://u@h/db"),
        ("POSTGRES://u@h/db", "postgresql://u@h/db"),
        ("  postgresql+psycopg://u@h/db\n", "postgresql://u@h/db"),
        ("host=h port=5 dbname=db", "host=h port=5 dbname=db"),
    ],
)
def test_both_forms_read_as_libpq(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected
    if expected.startswith("postgresql://"):
        assert sqlalchemy_url(given) == expected.replace("postgresql://", "postgresql+psycopg://")


def test_another_database_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError, match=r"not a PostgreSQL URL \(scheme 'mysql'\)"):
        normalize_database_url("mysql://u@h/db")
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        Settings(database_url="mysql://u@h/db")  # type: ignore[arg-type]


def _sqlalchemy_form(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_entry_point_takes_the_sqlalchemy_form(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = _sqlalchemy_form(db_url)
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", url)
    reset_settings()
    assert get_settings().require_database_url() == db_url
    env = {**os.environ, "JOBMONITOR_DATABASE_URL": url}

    # the server-side commands, as a user runs them
    for args in (["migrate"], ["seed"], ["token", "create", "--role", "admin", "--name", "me"]):
        done = _cli(*args, env=env)
        assert done.returncode == 0, (args, done.stderr)
    token = _cli("token", "create", "--name", f"t{uuid.uuid4().hex[:6]}", env=env).stdout
    assert token.startswith("jm_")
    assert migrations.current_revision(url) == migrations.head_revision(url)

    # a worker process runs a job
    engine.register(chain("sqla_form", "a", "b"))
    job_id = engine.create("sqla_form")
    worker = engine.spawn_worker(simple=True, burst=True)
    assert worker.wait(timeout=60) == 0
    assert engine.job(job_id)["status"] == "completed"

    # the API's pool, the worker's connection, a plain connection
    try:
        with api_pool().connection() as conn:
            assert conn.execute("SELECT current_database() AS d").fetchone()["d"] in db_url
    finally:
        close_api_pool()
    assert worker_connection().execute("SELECT 1 AS one").fetchone()["one"] == 1
    with connect(url) as conn:
        assert conn.execute("SELECT 1 AS one").fetchone()["one"] == 1

    # what `up` does with a configured server
    handle = ensure_postgres(tmp_path, url)
    assert handle.url == db_url and not handle.owned
