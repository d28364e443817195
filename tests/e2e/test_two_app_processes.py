"""The web app in two processes (what a deployment with several web hosts, or a restart of one
of them, does to a browser): app A (`reflex run --env prod`, which builds and serves the pages)
and app B (the same app's backend alone, `--backend-only`, on A's build: one build instead of
two), each on its own port, share the database and `REFLEX_REDIS_URL`. The browser talks to a
front port (a small TCP proxy standing in for the load balancer) whose upstream the test moves
from A to B, dropping the open connections. The page loaded and used on A goes on working on
B with the same per-tab state: the rows selected on A are still selected on B, and a bulk action
started on B acts on all of them. With each process keeping its own state (no
REFLEX_REDIS_URL) the selection would be gone after the switch ("1 selected" instead of
"3 selected"). App A runs two server processes on its port (`jobmonitor web --workers 2`), so
its own requests already reach two processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from redis import Redis

from cli.webapp import TOOLS_DIR, ensure_frontend_toolchain, web_command
from tests.e2e.conftest import _free_port, _spawn, _stop, _wait_for_ping
from tests.e2e.helpers import start_job, wait_status
from tests.tcp_proxy import TcpProxy


@pytest.fixture(scope="module")
def two_apps(e2e_env: dict[str, str], artifacts_dir: Path) -> Iterator[tuple[TcpProxy, int, int]]:
    """Apps A and B behind one front port; yields (proxy, port A, port B)."""
    ensure_frontend_toolchain()
    ports = [_free_port(), _free_port()]
    proxy = TcpProxy("127.0.0.1", ports[0])
    shared = {k: v for k, v in e2e_env.items() if k != "JOBMONITOR_E2E_TOKEN"}
    shared["REFLEX_REDIS_URL"] = e2e_env["JOBMONITOR_REDIS_URL"]  # the state both share
    procs = []
    try:
        for name, port, workers in (("a", ports[0], 2), ("b", ports[1], 1)):
            # A as `jobmonitor web --workers 2` runs it: two server processes on its port
            argv, env = web_command(port, {**os.environ, **shared}, workers=workers)
            if name == "b":  # the page comes from A's build; B serves the state and API
                argv = [*argv[:6], "--backend-only", "--backend-port", str(port)]
                argv += ["--backend-host", "127.0.0.1"]
                del env["REFLEX_FRONTEND_PORT"]
            env["REFLEX_API_URL"] = f"http://localhost:{proxy.port}"  # the page's front door
            env["REFLEX_WEB_WORKDIR"] = str(TOOLS_DIR / "two-apps-web")
            env["REFLEX_STATES_WORKDIR"] = str(TOOLS_DIR / f"two-apps-states-{name}")
            log = artifacts_dir / f"two-apps-{name}.log"
            procs.append(_spawn(argv, env, log))
            _wait_for_ping(procs[-1], f"http://127.0.0.1:{port}", log)  # one build at a time
            assert "out of date" not in log.read_text()  # Node 24 from the venv: no warning
        yield proxy, ports[0], ports[1]
    finally:
        for proc in procs:
            _stop(proc)
        proxy.close()


def test_a_page_keeps_its_state_across_app_processes(
    two_apps: tuple[TcpProxy, int, int], e2e_env: dict[str, str], browser: Any
) -> None:
    proxy, port_a, port_b = two_apps
    front = f"http://localhost:{proxy.port}"
    token = e2e_env["JOBMONITOR_E2E_TOKEN"]
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port_b}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    ) as api:
        # long steps: no worker of this module runs them, but another test's may
        jobs = [
            start_job(api, "basic_sequence", {"records": 5, "delay_seconds": 60}) for _ in range(3)
        ]
        context = browser.new_context(base_url=front, viewport={"width": 1440, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"/signin?token={token}")
            page.wait_for_url("**/jobs", timeout=60_000)
            rows = [page.locator(f'tr[data-job-id="{j["id"]}"]') for j in jobs]
            for row in rows[:2]:
                row.get_by_role("checkbox").click()
            expect(page.get_by_text("2 selected")).to_be_visible()
            assert set(proxy.connections) == {port_a}

            proxy.switch(port_b)  # app A is out of the path; the page reconnects to B
            rows[2].get_by_role("checkbox").click()  # handled by B, with A's selection
            expect(page.get_by_text("3 selected")).to_be_visible(timeout=30_000)
            assert proxy.connections.get(port_b, 0) >= 1
            page.get_by_role("button", name="Cancel selected").click()
            confirm = page.get_by_role("alertdialog")
            expect(confirm).to_contain_text("Cancel 3 selected jobs?")
            confirm.get_by_role("button", name="Yes, cancel").click()
            summary = page.get_by_role("status", name="Bulk action result")
            expect(summary).to_contain_text("Cancelled 3 of 3 jobs.", timeout=30_000)
        finally:
            context.close()
        for j in jobs:
            assert wait_status(api, j["id"], "cancelled")["status"] == "cancelled"
    # the state lived in Redis, not in either process
    keys = Redis.from_url(e2e_env["JOBMONITOR_REDIS_URL"]).keys("*jobs_state*")
    assert keys, "no Reflex state in REFLEX_REDIS_URL"
