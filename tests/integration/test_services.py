"""cli.services: real private redis-server and PostgreSQL clusters on loopback.

Run as root, the PostgreSQL cluster belongs to the `postgres` system user: it lives
in a 0755 directory under /tmp that this test creates (pytest's own tmp dirs are 0700).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from cli.services.postgres import ensure_postgres
from cli.services.redis import check_redis, ensure_redis
from cli.services.system import ServiceError
from cli.services.testenv import stop_private, test_env


def port_open(url: str) -> bool:
    """True when something accepts TCP connections at the URL's host:port."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def unused_port() -> int:
    """A loopback port nobody listens on (for now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_closed(url: str, timeout: float = 10) -> bool:
    """True once nothing listens at the URL's port any more."""
    deadline = time.monotonic() + timeout
    while port_open(url):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh data dir the postgres system user can reach."""
    path = Path(tempfile.mkdtemp(prefix="jm-services-", dir="/tmp"))
    path.chmod(0o755)
    yield path / "data"
    stop_private(path / "data")
    shutil.rmtree(path, ignore_errors=True)


def test_ensure_redis_starts_a_private_server_and_stops_it(data_dir: Path) -> None:
    handle = ensure_redis(data_dir, None)
    try:
        assert handle.owned and handle.started
        assert urlsplit(handle.url).hostname == "127.0.0.1"
        client = redis.Redis.from_url(handle.url)
        assert client.ping()
        client.set("jm-test", "kept")
        client.close()

        again = ensure_redis(data_dir, None)
        assert again.url == handle.url and not again.started
    finally:
        handle.stop()

    assert handle.process is not None and handle.process.returncode is not None
    assert wait_closed(handle.url)
    assert (data_dir / "redis" / "appendonlydir").is_dir()


def test_ensure_redis_with_a_url_only_checks_it(data_dir: Path) -> None:
    dead = f"redis://127.0.0.1:{unused_port()}"
    with pytest.raises(ServiceError, match="not reachable"):
        ensure_redis(data_dir, dead)
    url = os.environ.get("JOBMONITOR_TEST_REDIS_URL")
    if url:
        handle = ensure_redis(data_dir, url)
        assert handle.url == url and not handle.owned
        handle.stop()  # a no-op for external servers
        check_redis(url)
    assert not (data_dir / "redis").exists()


def test_test_env_keeps_variables_that_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBMONITOR_TEST_DATABASE_URL", "postgresql://x@db:1/postgres")
    monkeypatch.setenv("JOBMONITOR_TEST_REDIS_URL", "redis://cache:2")
    assert test_env() == {
        "JOBMONITOR_TEST_DATABASE_URL": "postgresql://x@db:1/postgres",
        "JOBMONITOR_TEST_REDIS_URL": "redis://cache:2",
    }


def test_test_env_command_prints_export_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBMONITOR_TEST_DATABASE_URL", "postgresql://x@db:1/postgres")
    monkeypatch.setenv("JOBMONITOR_TEST_REDIS_URL", "redis://cache:2")
    result = subprocess.run(
        [sys.executable, "-m", "cli.services", "test-env"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.splitlines() == [
        "export JOBMONITOR_TEST_DATABASE_URL=postgresql://x@db:1/postgres",
        "export JOBMONITOR_TEST_REDIS_URL=redis://cache:2",
    ]


@pytest.mark.slow
def test_test_env_starts_private_servers_when_none_answer_and_always_its_own_redis(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOBMONITOR_TEST_DATABASE_URL", raising=False)
    monkeypatch.delenv("JOBMONITOR_TEST_REDIS_URL", raising=False)
    monkeypatch.setattr(
        "cli.services.testenv.DEFAULT_TEST_DATABASE_URL",
        f"postgresql://postgres@127.0.0.1:{unused_port()}/postgres",
    )

    env = test_env(data_dir)

    database_url = env["JOBMONITOR_TEST_DATABASE_URL"]
    assert database_url.endswith("/postgres")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("create database jm_services_probe")
        conn.execute("drop database jm_services_probe")
    check_redis(env["JOBMONITOR_TEST_REDIS_URL"])
    assert not env["JOBMONITOR_TEST_REDIS_URL"].endswith(":6379")  # never the shared server

    stop_private(data_dir)
    assert wait_closed(database_url)
    assert wait_closed(env["JOBMONITOR_TEST_REDIS_URL"])


@pytest.mark.slow
def test_ensure_postgres_private_cluster_lifecycle(data_dir: Path) -> None:
    handle = ensure_postgres(data_dir, None)
    try:
        assert handle.owned and handle.started
        assert urlsplit(handle.url).hostname == "127.0.0.1"
        assert handle.url.endswith("/jobmonitor")
        with psycopg.connect(handle.url, autocommit=True) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
            conn.execute("create table kept (id int)")

        again = ensure_postgres(data_dir, None)
        assert again.url == handle.url and not again.started
    finally:
        handle.stop()
    assert wait_closed(handle.url)
    assert not (data_dir / "postgres" / "postmaster.pid").exists()

    restarted = ensure_postgres(data_dir, None)  # no initdb: the data is still there
    try:
        assert restarted.started
        with psycopg.connect(restarted.url) as conn:
            assert conn.execute("select count(*) from kept").fetchone() == (0,)
    finally:
        restarted.stop()
    assert wait_closed(restarted.url)


def test_missing_binaries_without_root_are_listed_in_one_message(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not root and no sudo: `up` names every server package it needs in one message (one
    administrator round), and each service alone names its own."""
    from cli.up import install_missing

    monkeypatch.setattr("cli.up.find_pg_bin", lambda _cluster=None: None)
    monkeypatch.setattr("cli.services.postgres.find_pg_bin", lambda _cluster=None: None)
    monkeypatch.setattr("cli.services.system.shutil.which", lambda *_args, **_kw: None)  # no sudo
    monkeypatch.setattr("cli.services.system.os.geteuid", lambda: 1000)
    with pytest.raises(ServiceError) as both:
        install_missing(data_dir, None, None)
    assert str(both.value).startswith("missing system packages: postgresql, redis-server.")
    assert "\n    sudo apt-get install -y postgresql redis-server\n" in str(both.value)
    with pytest.raises(ServiceError, match="sudo apt-get install -y redis-server\n"):
        install_missing(data_dir, "postgresql://u@db/x", None)
    install_missing(data_dir, "postgresql://u@db/x", "redis://r:6379")  # nothing needed
    for ensure, package in ((ensure_postgres, "postgresql"), (ensure_redis, "redis-server")):
        with pytest.raises(ServiceError, match=f"sudo apt-get install -y {package}\n"):
            ensure(data_dir, None)
