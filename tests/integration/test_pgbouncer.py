"""Behind PgBouncer in transaction pooling (`JOBMONITOR_DATABASE_POOLER=pgbouncer`): the API,
forking workers, the reaper and the server-side commands run jobs through Debian's pgbouncer,
started here on a private port (PgBouncer refuses the `options` startup parameter and
server-side prepared statements outlive the transaction that made them)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import psycopg
import pytest

from backend.api.app import create_app
from backend.db import close_api_pool
from backend.http.deps import transaction
from backend.jobs.states import JOB_TERMINAL
from backend.settings import reset_settings
from cli.services.system import free_port
from tests.api.conftest import serve_in_thread
from tests.conftest import ADMIN_URL
from tests.integration.conftest import Engine, chain

JOBS = 15


def _pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/bin")


@pytest.fixture(scope="module")
def pgbouncer() -> Iterator[int]:
    """A pgbouncer in transaction mode in front of the test PostgreSQL: its port."""
    binary = _pgbouncer_binary()
    if binary is None:
        pytest.skip(
            "pgbouncer binary not found (Debian package pgbouncer; setup --test installs it as root)"
        )
    server = urlsplit(ADMIN_URL)
    port = free_port(46432)
    workdir = Path(tempfile.mkdtemp(prefix="jm-pgbouncer-"))
    workdir.chmod(0o755)
    (workdir / "users.txt").write_text(
        f'"{unquote(server.username or "postgres")}" "{unquote(server.password or "")}"\n'
    )
    (workdir / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={server.hostname or '127.0.0.1'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {workdir}/users.txt\npool_mode = transaction\n"
        f"admin_users = {server.username or 'postgres'}\ndefault_pool_size = 4\n"
        f"logfile = {workdir}/pgbouncer.log\n"
    )
    argv = [binary, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        user = pwd.getpwnam("postgres" if _has_user("postgres") else "nobody")
        for path in (workdir, *workdir.iterdir()):
            os.chown(path, user.pw_uid, user.pw_gid)
        argv[1:1] = ["-u", user.pw_name]
    process = subprocess.Popen(argv, start_new_session=True)
    try:
        _wait_for_port(port, process, workdir / "pgbouncer.log")
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text() if log.exists() else "pgbouncer exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"pgbouncer did not listen on {port}")


def _through(url: str, port: int) -> str:
    """The same database, through pgbouncer, written the SQLAlchemy way (both are read)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{port}"
    return parts._replace(scheme="postgresql+psycopg", netloc=netloc).geturl()


def _transactions_seen(port: int, database: str) -> int:
    admin = urlsplit(ADMIN_URL)._replace(
        netloc=f"{urlsplit(ADMIN_URL).username or 'postgres'}@127.0.0.1:{port}"
    )
    with psycopg.connect(admin._replace(path="/pgbouncer").geturl(), autocommit=True) as conn:
        cur = psycopg.ClientCursor(conn)
        cur.execute("SHOW STATS")
        names = [c.name for c in cur.description or []]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return sum(int(r["total_xact_count"]) for r in rows if r["database"] == database)


def _cli(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args], env=dict(os.environ), start_new_session=True
    )


@pytest.mark.slow
def test_jobs_run_through_pgbouncer_in_transaction_mode(
    engine: Engine, db_url: str, pgbouncer: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.register(chain("through_pgbouncer", "a", "b", "c"))
    database = urlsplit(db_url).path.lstrip("/")
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", _through(db_url, pgbouncer))
    monkeypatch.setenv("JOBMONITOR_DATABASE_POOLER", "pgbouncer")
    reset_settings()
    close_api_pool()

    slug = engine.slug
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "token",
            "create",
            "-w",
            slug,
            "--role",
            "operator",
            "--name",
            "pgb",
        ],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()

    workers, reaper = _cli("worker", "--count", "2"), _cli("reaper")
    try:
        with serve_in_thread(create_app(), timeout_graceful_shutdown=1) as base:
            api = httpx.Client(
                base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            ids = []
            for n in range(JOBS):
                response = api.post(
                    "/jobs", json={"workflow": "through_pgbouncer", "input_payload": {"n": n}}
                )
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                statuses = [api.get(f"/jobs/{i}").json()["status"] for i in ids]
                if all(s in JOB_TERMINAL for s in statuses):
                    break
                time.sleep(0.5)
            assert statuses == ["completed"] * JOBS, statuses
            assert api.get("/readyz").json()["status"] == "ok"
            with transaction() as conn:  # the API's settings hold inside its transactions
                shown = conn.execute(
                    "SELECT current_setting('statement_timeout') AS t, current_setting('plan_cache_mode') AS p, current_setting('jit') AS j"
                ).fetchone()
            assert shown == {"t": "10s", "p": "force_custom_plan", "j": "off"}
    finally:
        for process in (workers, reaper):
            os.killpg(process.pid, signal.SIGTERM)
        assert workers.wait(timeout=60) == 0
        reaper.wait(timeout=30)
        close_api_pool()
    lost_or_failed = engine.conn.execute(
        "SELECT count(*) AS n FROM step_attempts WHERE job_id = ANY(%s) AND status <> 'completed'",
        (ids,),
    ).fetchone()["n"]
    assert lost_or_failed == 0
    assert _transactions_seen(pgbouncer, database) > JOBS * 3 * 2
