"""The API through a real PostgreSQL outage and a real Redis outage (issue 10): 503 with
Retry-After while the database is away, /readyz naming what is down, recovery within a few
seconds after it returns; without Redis, reads and creates that need only PostgreSQL work.

Each test owns its server (a private cluster or redis-server it stops and starts again on
the same port)."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from backend import migrations
from backend.api.app import create_app
from backend.auth.service import Role, bootstrap_token
from backend.db import close_api_pool, connect
from backend.http import deps
from backend.settings import reset_settings
from backend.workflows.service import register_workflow
from cli.services.postgres import PG_USER, PostgresHandle, ensure_postgres
from cli.services.system import ServiceError, run_command
from tests.api.conftest import API, TestClient, error_of
from tests.integration.conftest import chain

OUTAGE_SECONDS = 20  # as long as the outages the audit saw (20-36 s)
RECOVERY_LIMIT = 5.0  # seconds from the server answering again to the API answering 200


@dataclass
class PrivatePostgres:
    handle: PostgresHandle
    port: int

    def _pg_ctl(self, *args: str) -> None:
        assert self.handle.bin_dir and self.handle.cluster_dir
        user = PG_USER if os.geteuid() == 0 else None
        run_command(
            [str(self.handle.bin_dir / "pg_ctl"), *args, "-D", str(self.handle.cluster_dir)], user
        )

    def stop(self) -> None:
        self._pg_ctl("stop", "-w", "-m", "fast")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        log = str(self.handle.cluster_dir) + ".log"
        self._pg_ctl("start", "-w", "-t", "60", "-l", log, "-o", options)


@pytest.fixture
def private_pg(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivatePostgres]:
    # not under pytest's 0700 temp dirs: the postgres system user must reach the cluster
    root = Path(tempfile.mkdtemp(prefix="jm-outage-", dir="/tmp"))
    root.chmod(0o755)
    handle = _start_cluster(root / "pg")
    pg = PrivatePostgres(handle, int(urlsplit(handle.url).port or 0))
    # off the preferred port other runs' private clusters take (54329...): while ours is down,
    # another cluster on the same port would answer in its place
    pg.stop()
    pg.port = _ephemeral_port()
    pg.start()
    handle.url = handle.url.replace(f":{urlsplit(handle.url).port}/", f":{pg.port}/")
    migrations.upgrade(handle.url)
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", handle.url)
    reset_settings()
    close_api_pool()
    try:
        yield pg
    finally:
        close_api_pool()
        handle.stop()
        shutil.rmtree(root, ignore_errors=True)


def _start_cluster(data_dir: Path) -> PostgresHandle:
    """ensure_postgres, again when another run's server took the free port it picked first
    (seen: "could not bind 127.0.0.1: Address already in use" with several runs at once)."""
    for attempt in range(3):
        try:
            return ensure_postgres(data_dir, None)
        except ServiceError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ephemeral_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client(token: str) -> TestClient:
    return TestClient(create_app(), base_url=API, headers={"Authorization": f"Bearer {token}"})


def _seed(url: str) -> str:
    with connect(url) as conn, conn.transaction():
        token, row, _ = bootstrap_token(conn, "default", Role.OPERATOR, "ops")
        register_workflow(
            conn, row.workspace_id, chain("echo3", "a", "b", "c"), check_actions=False
        )
    return token


def _until(check: Callable[[], bool], timeout: float) -> float:
    """Seconds until `check()` holds (polled), or fail after `timeout`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, "condition not met in time"
        time.sleep(0.1)
    return time.monotonic() - started


def test_postgres_outage_is_503_and_the_api_recovers_in_seconds(
    redis_url: str, private_pg: PrivatePostgres, caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(_seed(private_pg.handle.url))
    anonymous = TestClient(create_app(), base_url=API)
    assert client.post("/jobs", json={"workflow": "echo3"}).status_code == 201
    caplog.clear()
    private_pg.stop()
    down_since = time.monotonic()
    waits = []
    while time.monotonic() - down_since < OUTAGE_SECONDS:
        asked = time.monotonic()
        response = client.get("/jobs")
        waits.append(time.monotonic() - asked)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        assert error_of(response)["code"] == "unavailable"
    print(f"503 answered in {min(waits):.2f}-{max(waits):.2f} s during the outage")
    assert waits[0] < 8 and max(waits[1:]) < 4  # the pool's 5 s once, then 1 s (loaded machine)
    ready = anonymous.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["ok"] is False
    assert ready.json()["checks"]["redis"]["ok"] is True
    assert "database" in ready.json()["error"]["message"]
    private_pg.start()
    recovery = _until(lambda: client.get("/jobs").status_code == 200, timeout=60)
    print(f"API recovery after PostgreSQL came back: {recovery:.2f} s")
    assert recovery < RECOVERY_LIMIT, f"the API took {recovery:.1f} s to recover"
    assert anonymous.get("/readyz").status_code == 200
    assert client.get("/jobs").json()["total"] == 1
    # one line when it went away, one when it came back: not one per request or attempt
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 2, lines
    assert "PostgreSQL unavailable" in lines[0] and "PostgreSQL is back after" in lines[1]


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[Callable[[bool], str]]:
    """A redis-server of the test's own; call it with True to (re)start, False to stop."""
    binary = shutil.which("redis-server", path=f"{os.environ.get('PATH', '')}:/usr/bin")
    assert binary, "redis-server is needed"
    port, procs = _ephemeral_port(), []
    url = f"redis://127.0.0.1:{port}/0"

    def switch(up: bool) -> str:
        if up:
            argv = [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(tmp_path),
            ]
            procs.append(
                subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
            _until(
                lambda: (
                    subprocess.run(
                        ["redis-cli", "-p", str(port), "ping"], capture_output=True
                    ).stdout.strip()
                    == b"PONG"
                ),
                15,
            )
        else:
            procs[-1].terminate()
            procs[-1].wait(10)
        return url

    try:
        yield switch
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)


def test_redis_outage_keeps_postgres_reads_working(
    env: Any, private_redis: Callable[[bool], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBMONITOR_REDIS_URL", private_redis(True))
    reset_settings()
    monkeypatch.setattr(deps, "_redis", None)
    client = _client(_seed(os.environ["JOBMONITOR_DATABASE_URL"]))
    anonymous = TestClient(create_app(), base_url=API)
    first = client.post("/jobs", json={"workflow": "echo3"}).json()
    private_redis(False)
    for _ in range(3):
        assert client.get("/jobs").status_code == 200
        assert client.get(f"/jobs/{first['id']}").status_code == 200
        assert client.get(f"/jobs/{first['id']}/steps").status_code == 200
    created = client.post("/jobs", json={"workflow": "echo3"})
    assert created.status_code == 201  # stored; the reaper enqueues it when Redis is back
    ready = anonymous.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"]["ok"] is False
    assert ready.json()["checks"]["database"]["ok"] is True
    private_redis(True)
    recovery = _until(lambda: anonymous.get("/readyz").status_code == 200, timeout=30)
    print(f"API readiness after Redis came back: {recovery:.2f} s")
    assert recovery < RECOVERY_LIMIT
