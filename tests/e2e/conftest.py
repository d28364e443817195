"""Browser tests: the real web app (`reflex run --env prod` on one port) in Debian's Chromium.

Fixtures:
- `web_app_env`: extra environment for the app process. Override it (in this file, or
  in a test module) to point the app at a database and Redis, e.g.
  `return {"JOBMONITOR_DATABASE_URL": database_url, "JOBMONITOR_REDIS_URL": redis_url}`.
- `web_app`: starts the app once per session on a free port and yields its base URL;
  also the `base_url` of pytest-playwright, so `page.goto("/")` works.
Every test under tests/e2e is marked `e2e`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobmonitor.webapp import PROJECT_ROOT, TOOLS_DIR, ensure_frontend_toolchain, web_command

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
_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test collected from this directory `e2e` (the hook sees all items)."""
    for item in items:
        if _HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots and the app's log go (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def web_app_env() -> dict[str, str]:
    """Extra environment for the web app process; override to add database/Redis URLs."""
    return {}


@pytest.fixture(scope="session")
def web_app(
    web_app_env: dict[str, str], artifacts_dir: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """Start the web app on a free port for the session; yield its base URL."""
    worker_id = getattr(request.config, "workerinput", {}).get("workerid", "main")
    ensure_frontend_toolchain()
    port = _free_port()
    argv, env = web_command(port, {**os.environ, **_isolated_dirs(worker_id), **web_app_env})
    log_path = artifacts_dir / f"web_app-{worker_id}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
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
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium (Playwright cannot download its own browsers here)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


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
    """Terminate the app's whole process group (reflex, granian and its workers)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)  # the group outlives its leader: reach stragglers too
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
