"""Web monitor latency, measured in Chromium against the real app, workers and database.

    python bench/ui_latency.py [--jobs 1000000] [--steps 60] [--step-seconds 0.15] [--renders 5]
                               [--skip-load]

1. Load: a fresh database `jm_bench_ui` (dropped first) with `--jobs` finished jobs in
   workspace "bench" (one INSERT ... SELECT; the job_counts trigger is off during the load
   and the counters are rebuilt after it, then VACUUM ANALYZE). `--skip-load` reuses it.
2. Starts 2 rq workers, the reaper and the web app (`reflex run --env prod`, one port).
3. Step latency: a job of a `--steps`-step chain (each step sleeps `--step-seconds`) runs
   while its page is open. For every step, the time from the commit of its completion (the
   `step_completed` event's `created_at`, i.e. the start of the committing transaction: an
   upper bound) to the first frame whose DOM shows `data-status="completed"` on that step
   (a MutationObserver in the page, same machine clock). Target: p95 < 500 ms.
4. First render of `/jobs` with the loaded jobs: from navigation start to the first job row
   in the DOM (`performance.now()` in the page), in fresh signed-in browser contexts; the
   first is cold. Target: < 1.5 s.

Uses JOBMONITOR_TEST_DATABASE_URL (maintenance URL, default postgres@127.0.0.1:5432) and
JOBMONITOR_TEST_REDIS_URL (db 11). Logs of the processes go to test-artifacts/bench-*.log.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from playwright.sync_api import Browser, sync_playwright  # noqa: E402
from redis import Redis  # noqa: E402

ADMIN = os.environ.get(
    "JOBMONITOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("JOBMONITOR_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/") + "/11"
DB = "jm_bench_ui"
URL = ADMIN.rpartition("/")[0] + f"/{DB}"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("JOBMONITOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CHAIN = "ui_latency_chain"

# Records, per step key, the first time its timeline row shows "completed".
OBSERVER = """
window.__completedAt = {};
new MutationObserver(() => {
  for (const el of document.querySelectorAll('[data-step-key][data-status="completed"]')) {
    const key = el.getAttribute('data-step-key');
    if (!(key in window.__completedAt)) window.__completedAt[key] = Date.now();
  }
}).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-status']});
"""
# Records the first job row's appearance relative to navigation start.
FIRST_ROW = """
window.__firstRow = null;
new MutationObserver((_, observer) => {
  if (document.querySelector('tr[data-job-id]')) { window.__firstRow = performance.now(); observer.disconnect(); }
}).observe(document, {subtree: true, childList: true});
"""


# --- database -------------------------------------------------------------------------------


def load(jobs: int) -> None:
    """A fresh database with `jobs` finished jobs of five workflows, newest first in time."""
    from backend import migrations

    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    migrations.upgrade(URL)
    with psycopg.connect(URL, row_factory=psycopg.rows.dict_row) as conn:
        workspace = conn.execute(
            "INSERT INTO workspaces (id, slug, name) VALUES (gen_random_uuid(), 'bench', 'bench') RETURNING id"
        ).fetchone()["id"]  # type: ignore[index]
        versions = [_register(conn, workspace, f"bench_wf_{i}", 5) for i in range(5)]
        conn.execute("ALTER TABLE jobs DISABLE TRIGGER jobs_counts")
        t0 = time.monotonic()
        for k, (workflow_id, version_id) in enumerate(versions):
            conn.execute(
                _JOBS_SQL,
                {
                    "ws": workspace,
                    "wf": workflow_id,
                    "wv": version_id,
                    "k": k,
                    "n": len(versions),
                    "total": jobs,
                },
            )
        conn.execute("ALTER TABLE jobs ENABLE TRIGGER jobs_counts")
        conn.execute(
            "INSERT INTO job_counts (workspace_id, workflow_id, status, n) "
            "SELECT workspace_id, workflow_id, status, count(*) FROM jobs GROUP BY 1, 2, 3"
        )
        conn.execute(
            "UPDATE workflows w SET execution_count = (SELECT count(*) FROM jobs j WHERE j.workflow_id = w.id)"
        )
        conn.commit()
        print(f"loaded {jobs:,} jobs in {time.monotonic() - t0:.0f} s", flush=True)
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# job number g = n*i + k (k: the workflow), newest first: job g was created g seconds ago
_JOBS_SQL = """
INSERT INTO jobs (id, workspace_id, workflow_id, workflow_version_id, execution_number, status, input_payload,
                  payload_hash, progress, step_count, steps_done, total_cost, error_message,
                  created_at, started_at, completed_at, updated_at)
SELECT gen_random_uuid(), %(ws)s, %(wf)s, %(wv)s, g / %(n)s + 1, s.status, jsonb_build_object('records', g %% 1000),
       md5(g::text), 1, 5, CASE WHEN s.status = 'completed' THEN 5 ELSE 2 END, (g %% 100) / 1000.0,
       CASE WHEN s.status = 'failed' THEN 'Step ''Process'' failed: planned failure' END,
       now() - make_interval(secs => g), now() - make_interval(secs => g) + interval '1 second',
       now() - make_interval(secs => g) + make_interval(secs => 2 + g %% 30), now()
FROM generate_series(%(k)s, %(total)s - 1, %(n)s) AS g,
     LATERAL (SELECT CASE WHEN g %% 20 = 3 THEN 'failed' WHEN g %% 20 = 7 THEN 'cancelled' ELSE 'completed' END AS status) s
"""


def _register(
    conn: psycopg.Connection[Any],
    workspace: uuid.UUID,
    name: str,
    steps: int,
    seconds: float = 0.0,
    first: float = 0.0,
) -> tuple[Any, Any]:
    """A chain of `steps` sleeping steps (the first sleeps `first` seconds)."""
    from backend.workflows.service import register_workflow

    keys = [f"s{i:02d}" for i in range(steps)]
    definition = {
        "name": name,
        "steps": [
            {
                "key": key,
                "name": f"Chain {i}",
                "action": "test.sleep",
                "params": {"seconds": seconds if i else first},
                "depends_on": [keys[i - 1]] if i else [],
            }
            for i, key in enumerate(keys)
        ],
    }
    registered = register_workflow(conn, workspace, definition, check_actions=False)
    return registered.workflow_id, registered.version_id


def prepare(steps: int, step_seconds: float) -> str:
    """The latency chain (its first step waits 4 s for the page to open) and an admin token."""
    from backend.auth.service import create_token

    with psycopg.connect(URL, row_factory=psycopg.rows.dict_row) as conn:
        workspace = conn.execute("SELECT id FROM workspaces WHERE slug = 'bench'").fetchone()
        assert workspace is not None, "no earlier load: run without --skip-load"
        conn.execute("DELETE FROM api_tokens WHERE name = 'ui-bench'")
        token, _ = create_token(conn, workspace["id"], "ui-bench", "admin")
        _register(conn, workspace["id"], CHAIN, steps + 1, step_seconds, first=4.0)
        conn.commit()
    return str(token)


def committed_at(job_id: str) -> dict[str, float]:
    """Epoch milliseconds of each step's completion (its step_completed event)."""
    with psycopg.connect(URL) as conn:
        rows = conn.execute(
            "SELECT step_key, extract(epoch FROM created_at) * 1000 FROM job_events "
            "WHERE job_id = %s AND type = 'step_completed'",
            (job_id,),
        ).fetchall()
    return {str(key): float(ms) for key, ms in rows}


# --- processes ------------------------------------------------------------------------------


@contextlib.contextmanager
def stack() -> Iterator[str]:
    """Workers, reaper and the web app against the bench database; yields the app's URL."""
    from cli.webapp import TOOLS_DIR, ensure_frontend_toolchain, web_command

    Redis.from_url(REDIS).flushdb()
    env = {
        **os.environ,
        "JOBMONITOR_DATABASE_URL": URL,
        "JOBMONITOR_REDIS_URL": REDIS,
        "JOBMONITOR_STEP_MODULES": "examples.steps,tests.stepdefs",
        "JOBMONITOR_QUEUE": f"jm-bench-ui-{uuid.uuid4().hex[:6]}",
        "PYTHONPATH": str(ROOT),
        "REFLEX_WEB_WORKDIR": str(TOOLS_DIR / "bench-web"),
        "REFLEX_STATES_WORKDIR": str(TOOLS_DIR / "bench-states"),
    }
    ensure_frontend_toolchain()
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    jobmonitor = str(Path(sys.executable).with_name("jobmonitor"))
    web_argv, web_env = web_command(port, env)
    procs = [
        _spawn([jobmonitor, "worker", "--count", "2"], env, "workers"),
        _spawn([jobmonitor, "reaper"], env, "reaper"),
        _spawn(web_argv, web_env, "web"),
    ]
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/ping", procs[-1])
        yield base
    finally:
        for proc in procs:
            _stop(proc)


def _spawn(argv: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    with (ARTIFACTS / f"bench-{name}.log").open("wb") as log:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"the web app exited with {proc.returncode}: see test-artifacts/bench-web.log"
            )
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError("the web app did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- measurements ---------------------------------------------------------------------------


def signed_in_state(browser: Browser, base: str, token: str) -> dict[str, Any]:
    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.goto(f"/signin?token={token}")
    page.wait_for_url("**/jobs", timeout=60_000)
    state = context.storage_state()
    context.close()
    return dict(state)


def step_latency(
    browser: Browser, base: str, token: str, state: dict[str, Any]
) -> tuple[list[float], bool]:
    """Per-step milliseconds from commit to visible, and whether the page was live (SSE)."""
    api = httpx.Client(
        base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    context = browser.new_context(base_url=base, storage_state=state)  # type: ignore[arg-type]
    page = context.new_page()
    page.add_init_script(OBSERVER)
    job = api.post("/jobs", json={"workflow": CHAIN, "input_payload": {}}).json()
    page.goto(f"/jobs/{job['id']}")
    page.get_by_role("button", name="Step 1 Chain 0", exact=True).wait_for()
    live = page.get_by_text("Live", exact=True).is_visible()
    watch_from = time.time() * 1000
    deadline = time.monotonic() + 600
    while api.get(f"/jobs/{job['id']}").json()["status"] not in (
        "completed",
        "failed",
        "cancelled",
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the chain job did not finish")
        time.sleep(0.5)
    page.wait_for_timeout(2000)
    seen: dict[str, float] = page.evaluate("window.__completedAt")
    committed = committed_at(job["id"])
    context.close()
    latencies = [seen[key] - at for key, at in committed.items() if key in seen and at > watch_from]
    missing = [key for key, at in committed.items() if at > watch_from and key not in seen]
    if missing:
        print(f"  warning: {len(missing)} completed steps never showed as completed: {missing[:5]}")
    return latencies, live


def first_render(
    browser: Browser, base: str, state: dict[str, Any], runs: int, path: str = "/jobs"
) -> list[float]:
    """Milliseconds from navigation start to the first job row, in fresh contexts."""
    times = []
    for _ in range(runs):
        context = browser.new_context(base_url=base, storage_state=state)  # type: ignore[arg-type]
        page = context.new_page()
        page.add_init_script(FIRST_ROW)
        page.goto(path)
        page.locator("tr[data-job-id]").first.wait_for(timeout=30_000)
        times.append(float(page.evaluate("window.__firstRow")))
        context.close()
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=60, help="measured steps (at least 50)")
    parser.add_argument("--step-seconds", type=float, default=0.15)
    parser.add_argument("--renders", type=int, default=5)
    parser.add_argument(
        "--skip-load", action="store_true", help="reuse the database of an earlier run"
    )
    args = parser.parse_args()
    if not args.skip_load:
        load(args.jobs)
    token = prepare(args.steps, args.step_seconds)
    with stack() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        state = signed_in_state(browser, base, token)
        renders = first_render(browser, base, state, args.renders)
        failed_tab = first_render(browser, base, state, args.renders, "/jobs?status=failed")
        latencies, live = step_latency(browser, base, token, state)
        browser.close()
    with psycopg.connect(URL) as conn:
        total = int(conn.execute("SELECT sum(n) FROM job_counts").fetchone()[0])  # type: ignore[index]
    print(
        f"\nweb monitor latency ({total:,} jobs in the database, {'event stream' if live else 'POLLING'})"
    )
    print(
        f"  step completion -> visible, {len(latencies)} steps: p50 {pct(latencies, 50):.0f} ms, "
        f"p95 {pct(latencies, 95):.0f} ms, max {max(latencies):.0f} ms   (target p95 < 500 ms)"
    )
    for label, values in (("/jobs", renders), ("/jobs?status=failed", failed_tab)):
        print(
            f"  first render of {label}: cold {values[0]:.0f} ms, warm median {statistics.median(values[1:] or values):.0f} ms, "
            f"max {max(values):.0f} ms   (target < 1500 ms)"
        )


if __name__ == "__main__":
    main()
