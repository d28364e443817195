"""The PostgreSQL and Redis servers for the test suite (`scripts/test` runs this module).

`python -m cli.services test-env` prints `export` lines for the test suite, and
`python -m cli.services stop-private DIR` stops the private servers under DIR.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

import psycopg

from backend.settings import normalize_database_url
from cli.services.postgres import ensure_postgres, stop_private_postgres
from cli.services.redis import ensure_redis, stop_private_redis
from cli.services.system import Log, ServiceError, quiet

TEST_DATABASE_KEY = "JOBMONITOR_TEST_DATABASE_URL"
TEST_REDIS_KEY = "JOBMONITOR_TEST_REDIS_URL"
DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_TEST_DATA_DIR = Path(".jobmonitor/test")


def _default_postgres_usable(url: str) -> bool:
    """True when `url` answers and its user may CREATE DATABASE."""
    query = "select rolsuper or rolcreatedb from pg_roles where rolname = current_user"
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            row = conn.execute(query).fetchone()
    except psycopg.Error:
        return False
    return bool(row and row[0])


def test_env(data_dir: Path = DEFAULT_TEST_DATA_DIR, log: Log = quiet) -> dict[str, str]:
    """Env vars for the test suite: a PostgreSQL maintenance URL (the tests may
    CREATE DATABASE there; each test run creates and drops only databases of its own) and a
    Redis base URL. Variables already set win. Otherwise PostgreSQL is the server on the
    default port when its user may create databases, else a private cluster; Redis is always
    a private redis-server under `data_dir` (the tests flush the databases they use and claim
    numbers in db 0, which they may only do on a server of their own). Private servers keep
    running until `stop_private(data_dir)` (scripts/test calls it at exit)."""
    database_url = normalize_database_url(os.environ.get(TEST_DATABASE_KEY) or "")
    if not database_url and _default_postgres_usable(DEFAULT_TEST_DATABASE_URL):
        database_url = DEFAULT_TEST_DATABASE_URL
    if not database_url:
        database_url = ensure_postgres(data_dir, None, log).url_for("postgres")
    redis_url = os.environ.get(TEST_REDIS_KEY) or ensure_redis(data_dir, None, log).url
    return {TEST_DATABASE_KEY: database_url, TEST_REDIS_KEY: redis_url}


test_env.__test__ = False  # type: ignore[attr-defined]  # tell pytest it is not a test


def stop_private(data_dir: Path, log: Log = quiet) -> None:
    """Stop the private PostgreSQL and Redis under `data_dir`, if they run."""
    data_dir = data_dir.resolve()
    stop_private_postgres(data_dir / "postgres", log)
    stop_private_redis(data_dir / "redis", log)


def _stderr(message: str) -> None:
    """Logger for the command line: messages go to stderr (stdout is for `eval`)."""
    sys.stderr.write(f"services: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """`python -m cli.services test-env [--data-dir DIR] | stop-private DIR`."""
    parser = argparse.ArgumentParser(prog="python -m cli.services", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    env_cmd = commands.add_parser("test-env", help="print `export` lines for the tests")
    env_cmd.add_argument("--data-dir", type=Path, default=DEFAULT_TEST_DATA_DIR)
    stop_cmd = commands.add_parser("stop-private", help="stop the private servers under DIR")
    stop_cmd.add_argument("data_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "test-env":
            for key, value in test_env(args.data_dir, _stderr).items():
                sys.stdout.write(f"export {key}={shlex.quote(value)}\n")
        else:
            stop_private(args.data_dir, _stderr)
    except ServiceError as exc:
        _stderr(f"error: {exc}")
        return 1
    return 0
