"""A PostgreSQL cluster and a redis-server owned by the tests that stop, kill or restart
them (never the suite's shared servers), started once per module under a temporary dir."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
import pytest

import cli.services.postgres
import cli.services.redis
from backend import migrations
from backend.db import connect
from cli.services.postgres import PostgresHandle, ensure_postgres
from cli.services.redis import RedisHandle, ensure_redis
from tests.conftest import TEST_STEP_MODULES, _reset
from tests.integration.conftest import Engine


@dataclass
class Servers:
    postgres: PostgresHandle
    redis: RedisHandle

    def start_again(self) -> None:
        self.postgres.start_again()
        self.redis.start_again()


def _any_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    # not under pytest's temp dir: other pytest runs of the same user reset its mode to 0700,
    # and the cluster belongs to the postgres user when we are root
    data_dir = Path(".jobmonitor/test").resolve() / f"private-{uuid.uuid4().hex[:8]}"
    data_dir.mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch:
        # not the preferred ports: while a test has stopped a server, another private server
        # of this machine (another checkout's `up` or tests) could take a well-known port
        patch.setattr(cli.services.postgres, "PG_PREFERRED_PORT", _any_free_port())
        patch.setattr(cli.services.redis, "REDIS_PREFERRED_PORT", _any_free_port())
        postgres = ensure_postgres(data_dir, None)
        redis = ensure_redis(data_dir, None)
    try:
        migrations.upgrade(postgres.url)
        yield Servers(postgres, redis)
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def private_env(servers: Servers, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This test's environment on the private servers (they run again if a test stopped
    them), with a short lease and a queue of its own."""
    servers.start_again()
    values = {
        "JOBMONITOR_DATABASE_URL": servers.postgres.url,
        "JOBMONITOR_REDIS_URL": servers.redis.url,
        "JOBMONITOR_STEP_MODULES": TEST_STEP_MODULES,
        "JOBMONITOR_LEASE_TTL": "6",  # 20 beats: a loaded 2-core CI machine starved one for 3 s
        "JOBMONITOR_HEARTBEAT_INTERVAL": "0.3",
        "JOBMONITOR_REAPER_INTERVAL": "0.5",
        "JOBMONITOR_QUEUE": f"jm-test-{uuid.uuid4().hex[:6]}",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    _reset()
    from backend.settings import get_settings
    from backend.steps import load_step_modules

    load_step_modules(get_settings().step_modules)
    return values


@pytest.fixture
def private_engine(private_env: dict[str, str]) -> Iterator[Engine]:
    with connect(autocommit=True) as conn:
        yield Engine(conn)
    _reset()


class Process:
    """A server-side command (`jobmonitor worker`, `reaper`, ...) with its output in a file."""

    def __init__(self, log_dir: Path, name: str, *args: str) -> None:
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *args],
            env=dict(os.environ),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.alive:
            os.killpg(self.popen.pid, 9)
        self.popen.wait()
        self._log.close()


def reconnect(url: str) -> psycopg.Connection[Any]:
    return connect(url, autocommit=True)
