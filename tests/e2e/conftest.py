"""Browser tests: the real web app (`reflex run --env prod` on one port) in Debian's Chromium,
with real rq workers, the reaper, PostgreSQL and Redis.

Session fixtures:
- `e2e_env`: a database of this run's own (created from JOBMONITOR_TEST_DATABASE_URL and
  migrated), Redis db 14 or 15 (claimed, flushed), a private queue name, the example workflows
  seeded into workspace "default", and an admin token. `web_app_env` passes it to the app; the
  workers (`jobmonitor worker --count 2`) and the reaper (`jobmonitor reaper`) get the same.
- `web_app`: starts the app once per session on a free port and yields its base URL; also the
  `base_url` of pytest-playwright, so `page.goto("/")` works.
- `storage_state`: signs in once through the sign-in page; every test's browser context
  starts signed in (`browser_context_args`).
- `api`: an httpx client of the app's REST API with the admin token, to arrange and check.
Every test under tests/e2e is marked `e2e`. Screenshots and process logs go to test-artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import expect
from redis import Redis

from cli.webapp import PROJECT_ROOT, TOOLS_DIR, ensure_frontend_toolchain, web_command

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
START_TIMEOUT = 180.0
CHROMIUM = os.environ.get("JOBMONITOR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ADMIN_URL = os.environ.get(
    "JOBMONITOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_BASE = os.environ.get("JOBMONITOR_TEST_REDIS_URL", "redis://127.0.0.1:6379")
E2E_REDIS_DBS = (14, 15)  # two browser-test sessions at once (e.g. two checkouts) can run
E2E_CLAIM = "jobmonitor-tests:e2e-db:"
STEP_MODULES = "examples.steps,tests.stepdefs"
JOBMONITOR = str(Path(sys.executable).with_name("jobmonitor"))
_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test collected from this directory `e2e` (the hook sees all items)."""
    for item in items:
        if _HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _patient() -> Iterator[None]:
    """Wait up to 15 s (not Playwright's 5 s) for what must appear: the browser, the app, the
    workers and the test share two cores, and a loaded machine must not fail a correct page."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots and the processes' logs go (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _worker_id(request: pytest.FixtureRequest) -> str:
    return str(getattr(request.config, "workerinput", {}).get("workerid", "main"))


@pytest.fixture(scope="session")
def e2e_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """A migrated database and a flushed Redis db for this run, seeded, with an admin token
    in `JOBMONITOR_E2E_TOKEN` (not passed on to the processes)."""
    from backend import migrations

    worker = _worker_id(request)
    name = f"jm_e2e_{uuid.uuid4().hex[:8]}_{worker}"
    base, _, _ = ADMIN_URL.rpartition("/")
    url = f"{base}/{name}"
    number = _claim_e2e_redis_db(name)
    redis_url = f"{REDIS_BASE.rstrip('/')}/{number}"
    _admin(f'CREATE DATABASE "{name}"')
    Redis.from_url(redis_url).flushdb()
    try:
        migrations.upgrade(url)
        env = {
            "JOBMONITOR_DATABASE_URL": url,
            "JOBMONITOR_REDIS_URL": redis_url,
            "JOBMONITOR_STEP_MODULES": STEP_MODULES,
            "JOBMONITOR_QUEUE": f"jm-e2e-{uuid.uuid4().hex[:6]}",
            "JOBMONITOR_LEASE_TTL": "10",
            "JOBMONITOR_REAPER_INTERVAL": "1",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        token = _seed(env)
        yield {**env, "JOBMONITOR_E2E_TOKEN": token}
    finally:
        Redis.from_url(redis_url).flushdb()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        Redis.from_url(f"{REDIS_BASE.rstrip('/')}/0").delete(f"{E2E_CLAIM}{number}")


def _claim_e2e_redis_db(owner: str) -> int:
    """Redis db 14 or 15, whichever no other browser-test session holds (db 0 holds the
    claims)."""
    claims = Redis.from_url(f"{REDIS_BASE.rstrip('/')}/0")
    for number in E2E_REDIS_DBS:
        if claims.set(f"{E2E_CLAIM}{number}", owner, nx=True, ex=3600):
            return number
    raise RuntimeError("Redis dbs 14 and 15 are both held by other browser-test sessions")


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _seed(env: dict[str, str]) -> str:
    """`jobmonitor seed` (the example workflows into workspace "default") and `jobmonitor token
    create` (an admin token, printed on stdout)."""
    run_env = {**os.environ, **env}
    subprocess.run(
        [JOBMONITOR, "seed"], env=run_env, cwd=PROJECT_ROOT, check=True, capture_output=True
    )
    out = subprocess.run(
        [
            JOBMONITOR,
            "token",
            "create",
            "--workspace",
            "default",
            "--role",
            "admin",
            "--name",
            "e2e",
        ],
        env=run_env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def web_app_env(e2e_env: dict[str, str]) -> dict[str, str]:
    """Extra environment for the web app process (database, Redis, step modules)."""
    return {k: v for k, v in e2e_env.items() if k != "JOBMONITOR_E2E_TOKEN"}


@pytest.fixture(scope="session")
def engine_processes(
    web_app_env: dict[str, str], artifacts_dir: Path, request: pytest.FixtureRequest
) -> Iterator[None]:
    """Two rq workers and the reaper against the run's database and queue."""
    worker = _worker_id(request)
    env = {**os.environ, **web_app_env}
    procs = [
        _spawn(
            [JOBMONITOR, "worker", "--count", "2"], env, artifacts_dir / f"workers-{worker}.log"
        ),
        _spawn([JOBMONITOR, "reaper"], env, artifacts_dir / f"reaper-{worker}.log"),
    ]
    try:
        time.sleep(0.5)
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(f"{proc.args} exited with {proc.returncode}")
        yield
    finally:
        for proc in procs:
            _stop(proc)


def _spawn(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            argv,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


@pytest.fixture(scope="session")
def web_app(
    web_app_env: dict[str, str],
    engine_processes: None,
    artifacts_dir: Path,
    request: pytest.FixtureRequest,
) -> Iterator[str]:
    """Start the web app on a free port for the session; yield its base URL."""
    worker_id = _worker_id(request)
    ensure_frontend_toolchain()
    port = _free_port()
    argv, env = web_command(port, {**os.environ, **_isolated_dirs(worker_id), **web_app_env})
    log_path = artifacts_dir / f"web_app-{worker_id}.log"
    proc = _spawn(argv, env, log_path)
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_for_ping(proc, base_url, log_path)
        yield base_url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def base_url(web_app: str) -> str:
    """pytest-playwright's base URL: relative `page.goto()` paths hit the web app."""
    return web_app


@pytest.fixture(scope="session")
def token(e2e_env: dict[str, str]) -> str:
    return e2e_env["JOBMONITOR_E2E_TOKEN"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium (Playwright cannot download its own browsers here)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def storage_state(
    browser: Any, web_app: str, token: str, artifacts_dir: Path, request: pytest.FixtureRequest
) -> Path:
    """Sign in once through the sign-in page (the link `jobmonitor up` prints) and keep the
    browser storage (the token in localStorage) for every test's context."""
    context = browser.new_context(base_url=web_app)
    page = context.new_page()
    page.goto(f"/signin?token={token}")
    page.wait_for_url("**/jobs", timeout=30_000)
    path = artifacts_dir / f"e2e-storage-state-{_worker_id(request)}.json"
    context.storage_state(path=str(path))
    context.close()
    return path


@pytest.fixture(scope="session")
def browser_context_args(
    browser_context_args: dict[str, Any], storage_state: Path
) -> dict[str, Any]:
    return {
        **browser_context_args,
        "storage_state": str(storage_state),
        "viewport": {"width": 1440, "height": 900},
        "accept_downloads": True,
        "reduced_motion": "reduce",  # no endless pulse: a quarter less browser CPU (README)
    }


@pytest.fixture(scope="session")
def api(web_app: str, token: str) -> Iterator[httpx.Client]:
    """The app's REST API with the admin token."""
    with httpx.Client(
        base_url=f"{web_app}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=15
    ) as client:
        yield client


def _isolated_dirs(worker_id: str) -> dict[str, str]:
    """Build into a private web dir so tests never rebuild under a running dev app."""
    return {
        "REFLEX_WEB_WORKDIR": str(TOOLS_DIR / f"e2e-web-{worker_id}"),
        "REFLEX_STATES_WORKDIR": str(TOOLS_DIR / f"e2e-states-{worker_id}"),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_ping(proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"web app exited with {proc.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{base_url}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    _stop(proc)
    pytest.fail(f"web app not ready after {START_TIMEOUT:.0f} s:\n{_tail(log_path)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a process's whole group (reflex, granian and its workers; rq work horses)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)  # the group outlives its leader: reach stragglers too
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
