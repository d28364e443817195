"""Shared fixtures: a migrated template database cloned for every test, a Redis database of
its own (flushed) for every test, and helpers to run steps on real rq workers.

The servers come from JOBMONITOR_TEST_DATABASE_URL (a maintenance URL where tests may create
databases) and JOBMONITOR_TEST_REDIS_URL; `scripts/test` sets both, finding or starting them.

`scripts/test` runs the suite on pytest-xdist workers (`-n 2 --dist loadfile`): each worker
process has its own RUN_ID (template database), Redis database, and preferred ports for the
private servers that fault tests start; see pytest_xdist_make_scheduler for the units of work.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from redis import Redis

from backend import migrations
from backend.db import connect
from backend.queue import reset_redis
from backend.settings import reset_settings

ADMIN_URL = os.environ.get(
    "JOBMONITOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_BASE = os.environ.get("JOBMONITOR_TEST_REDIS_URL", "redis://127.0.0.1:6379")
TEST_STEP_MODULES = "examples.steps,tests.stepdefs"
RUN_ID = uuid.uuid4().hex[:8]
# Prometheus metrics of this run's processes (the test process, its workers, APIs, reapers)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"jm-metrics-{RUN_ID}-")

# Redis databases the test runs claim; 14 and 15 belong to the browser tests (tests/e2e)
CLAIMABLE_REDIS_DBS = range(1, 14)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Units of work for pytest-xdist's `--dist loadfile` (scripts/test): every test module is
    one (its module fixtures, private servers or a built wheel, are made once), and all browser
    tests together are one, so a single worker builds and serves the web app (two halves on two
    workers measured slower on 2 cores: two cold builds and two browsers at once). (xdist's own
    `loadgroup` marks do not group under pytest 9.2, which ignores its renamed node ids.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("tests/e2e/"):
                return "tests/e2e"
            return str(super()._split_scope(nodeid))

    return Scheduling(config, log)


def _xdist_worker_number(config: pytest.Config) -> int | None:
    """0 for xdist worker gw0, 1 for gw1, ...; None when not running under xdist."""
    worker = getattr(config, "workerinput", {}).get("workerid")
    return int(worker[2:]) if worker else None


@pytest.fixture(scope="session", autouse=True)
def private_server_ports(request: pytest.FixtureRequest) -> Iterator[None]:
    """Under xdist, each worker prefers its own ports for the private PostgreSQL and Redis
    that fault tests start (cli/services picks the preferred port when it is free at that
    moment): two workers starting one at the same time, or a test restarting its stopped
    server on its old port, never race the other worker for it."""
    number = _xdist_worker_number(request.config)
    if number is None:
        yield
        return
    from cli.services import postgres as pg_service
    from cli.services import redis as redis_service

    offset = 10 * (number + 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pg_service, "PG_PREFERRED_PORT", pg_service.PG_PREFERRED_PORT + offset)
        patch.setattr(
            redis_service, "REDIS_PREFERRED_PORT", redis_service.REDIS_PREFERRED_PORT + offset
        )
        yield


def _db_url(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def template_db() -> Iterator[str]:
    name = f"jmt_{RUN_ID}_template"
    _admin(f'CREATE DATABASE "{name}"')
    migrations.upgrade(_db_url(name))
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_db() -> Iterator[int]:
    """A Redis database number claimed by this test run (db 0 holds the claims), so runs
    side by side never flush each other's queues."""
    claims = Redis.from_url(f"{REDIS_BASE.rstrip('/')}/0")
    for number in CLAIMABLE_REDIS_DBS:
        if claims.set(f"jobmonitor-tests:db:{number}", RUN_ID, nx=True, ex=3600):
            break
    else:
        raise RuntimeError("all Redis databases 1-13 are claimed by other test runs")
    yield number
    claims.delete(f"jobmonitor-tests:db:{number}")


@pytest.fixture
def db_url(template_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated database for this test, set as JOBMONITOR_DATABASE_URL."""
    name = f"jmt_{RUN_ID}_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    url = _db_url(name)
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", url)
    _reset()
    yield url
    _reset()
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url(redis_db: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A Redis database of this test run's own, empty, set as JOBMONITOR_REDIS_URL."""
    url = f"{REDIS_BASE.rstrip('/')}/{redis_db}"
    Redis.from_url(url).flushdb()
    monkeypatch.setenv("JOBMONITOR_REDIS_URL", url)
    _reset()
    yield url
    Redis.from_url(url).flushdb()
    _reset()


@pytest.fixture
def env(db_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Database + Redis + test step modules, with a short lease so tests run fast."""
    monkeypatch.setenv("JOBMONITOR_STEP_MODULES", TEST_STEP_MODULES)
    monkeypatch.setenv("JOBMONITOR_LEASE_TTL", "3")
    monkeypatch.setenv("JOBMONITOR_HEARTBEAT_INTERVAL", "0.3")
    monkeypatch.setenv("JOBMONITOR_QUEUE", f"jm-test-{uuid.uuid4().hex[:6]}")
    _reset()
    from backend.settings import get_settings
    from backend.steps import load_step_modules

    load_step_modules(get_settings().step_modules)
    return {k: v for k, v in os.environ.items() if k.startswith("JOBMONITOR_")}


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to the test database (dict rows)."""
    with connect(db_url, autocommit=True) as c:
        yield c


def _reset() -> None:
    reset_settings()
    reset_redis()
    from backend.db import close_worker_connection
    from backend.jobs import retry_timer

    close_worker_connection()
    retry_timer.reset()
