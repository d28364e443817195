"""The telemetry contract's own examples (seed 002), copied verbatim into telemetry_examples/,
run against the real app (`reflex run --env prod`: web app and API on one port, with real
workers): its Python with `requests`, its JavaScript with the venv's Node, and its WebSocket
snippet also in Chromium on a signed-in page. The only changes are a user's: the base URL
(`http://localhost:8000` -> the app's) and a bearer token (an `Authorization` header, the
`bearer.<token>` subprotocol); in the browser not even the token: the signed-in session
authenticates the socket."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from cli.webapp import TOOLS_DIR
from tests.e2e.helpers import start_job, wait_status

EXAMPLES = Path(__file__).parent / "telemetry_examples"
SEED_HOST = "http://localhost:8000"
SEED_HEADERS = 'headers={"X-Workspace-Id": workspace_id}'
STEP_NAMES = ["Initialize", "Process", "Finalize"]


def _node() -> str:
    for candidate in (Path(sys.executable).with_name("node"), TOOLS_DIR / "bin" / "node"):
        if candidate.exists():
            return str(candidate)
    pytest.skip("no Node in the venv or .tools (scripts/setup installs it)")


@pytest.fixture(scope="module")
def done(api: httpx.Client) -> dict[str, Any]:
    """A finished basic_sequence execution, and the workspace of the token."""
    job = start_job(api, "basic_sequence", {"records": 50})
    wait_status(api, job["id"], "completed", timeout=60)
    return {
        "execution_id": job["id"],
        "workflow_id": job["workflow_id"],
        "workspace_id": api.get("/me").json()["workspace"]["id"],
    }


def _python(name: str, names: dict[str, Any], base: str, token: str) -> str:
    """Run an example as written but for the base URL and a bearer header, in `names` (the
    document's examples are one script: the second one uses the first one's import); its
    stdout."""
    code = (EXAMPLES / name).read_text()
    assert SEED_HOST in code and SEED_HEADERS in code
    code = code.replace(SEED_HOST, base).replace(
        SEED_HEADERS,
        'headers={"X-Workspace-Id": workspace_id, "Authorization": f"Bearer {token}"}',
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, name, "exec", dont_inherit=True), names)
    return out.getvalue()


def _models() -> dict[str, Any]:
    """The contract's data structures, as written (pydantic)."""
    namespace: dict[str, Any] = {}
    prelude = (
        "from datetime import datetime\nfrom typing import Dict, List, Optional\n"
        "from pydantic import BaseModel\n"
    )
    code = prelude + (EXAMPLES / "models.py.txt").read_text()
    exec(compile(code, "models.py.txt", "exec", dont_inherit=True), namespace)
    return namespace


def test_python_examples(done: dict[str, Any], web_app: str, token: str, api: httpx.Client) -> None:
    names = {**done, "token": token}
    printed = _python("timeline_usage.py.txt", names, web_app, token)
    timeline = api.get(f"/jobs/{done['execution_id']}/timeline").json()
    expected = [f"{s['step_name']}: {s['duration_seconds']}s" for s in timeline["step_timeline"]]
    assert printed.splitlines() == expected and len(expected) == 3
    assert [s["step_name"] for s in timeline["step_timeline"]] == STEP_NAMES
    printed = _python("metrics_usage.py.txt", names, web_app, token)
    metrics = api.get(f"/workflows/{done['workflow_id']}/metrics").json()
    assert printed.splitlines() == [
        f"Success Rate: {metrics['success_rate']:.1f}%",
        f"Avg Duration: {metrics['average_duration_seconds']:.1f}s",
    ]
    models = _models()
    seed_timeline = httpx.get(
        f"{web_app}/api/workflows/executions/{done['execution_id']}/timeline",
        headers={"X-Workspace-Id": done["workspace_id"], "Authorization": f"Bearer {token}"},
    ).json()
    parsed = models["WorkflowExecutionTimeline"].model_validate(seed_timeline)
    assert parsed.completed_step_count == parsed.step_count == 3
    assert all(s.input_summary is not None for s in parsed.step_timeline)
    models["WorkflowMetricsSummary"].model_validate(metrics)


def _js_prelude(base: str, token: str, names: dict[str, Any]) -> str:
    return f"""
const BASE = {json.dumps(base)}, TOKEN = {json.dumps(token)};
const executionId = {json.dumps(names["execution_id"])};
const workflowId = {json.dumps(names["workflow_id"])};
const workspaceId = {json.dumps(names["workspace_id"])};
const realFetch = globalThis.fetch;
globalThis.fetch = (url, init = {{}}) => realFetch(new URL(url, BASE),
  {{...init, headers: {{...init.headers, Authorization: `Bearer ${{TOKEN}}`}}}});
const RealWebSocket = globalThis.WebSocket;
globalThis.WebSocket = class extends RealWebSocket {{
  constructor(url) {{
    super(url.replace({json.dumps(SEED_HOST.replace("http", "ws"))}, BASE.replace(/^http/, 'ws')),
          ['jobmonitor', `bearer.${{TOKEN}}`]);
    this.addEventListener('open', () => console.log('OPEN'));
    this.addEventListener('close', (e) => console.log(`CLOSED ${{e.code}} ${{e.reason}}`));
  }}
}};
function startTimer() {{ console.log('TIMER started'); }}
function stopTimer() {{ console.log('TIMER stopped'); setTimeout(() => process.exit(0), 50); }}
function updateUI() {{}}
"""


def _run_node(script: str, timeout: float = 60) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [_node(), "--input-type=module", "-e", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )


def test_javascript_fetch_examples(
    done: dict[str, Any], web_app: str, token: str, api: httpx.Client
) -> None:
    prelude = _js_prelude(web_app, token, done)
    timeline = api.get(f"/jobs/{done['execution_id']}/timeline").json()
    proc = _run_node(prelude + (EXAMPLES / "timeline.js.txt").read_text())
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    steps = timeline["step_timeline"]
    assert out.splitlines() == [
        *(f"{s['step_name']}: {s['duration_seconds']}s" for s in steps),
        f"Total: {timeline['total_duration_seconds']}s",
        f"Success: {timeline['completed_step_count']}/{timeline['step_count']}",
    ]
    dashboard = (EXAMPLES / "metrics_dashboard.js.txt").read_text()
    proc = _run_node(prelude + dashboard + "\nconsole.log(JSON.stringify(dashboard));\n")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    metrics = api.get(f"/workflows/{done['workflow_id']}/metrics").json()
    shown = json.loads(out.splitlines()[-1])
    assert shown["totalExecutions"] == metrics["total_executions"] >= 1
    assert shown["successRate"] == f"{metrics['success_rate']:.1f}%"
    assert shown["minDuration"].endswith("s") and shown["minDuration"] != "undefineds"


def test_javascript_websocket_example(
    done: dict[str, Any], web_app: str, token: str, api: httpx.Client
) -> None:
    script = _js_prelude(web_app, token, done) + (EXAMPLES / "websocket.js.txt").read_text()
    proc = _run_node(script)
    lines: list[str] = []
    opened = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(("OPEN", "CLOSED")):
                opened.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert opened.wait(30), lines
        assert lines[0] == "OPEN", lines
        job = start_job(api, "basic_sequence", {"records": 20})
        proc.wait(timeout=90)
        reader.join(timeout=5)
    finally:
        proc.kill()
    assert proc.returncode == 0, (lines, proc.stderr.read() if proc.stderr else "")
    assert lines[1:3] == ["Workflow started", "TIMER started"], lines
    assert [line for line in lines if line.endswith(" completed")] == [
        f"{name} completed" for name in STEP_NAMES
    ]
    finished = wait_status(api, job["id"], "completed")
    assert lines[-2].startswith("Workflow completed in ") and lines[-1] == "TIMER stopped"
    assert float(lines[-2].split(" in ")[1].rstrip("s")) > 0 and finished["status"] == "completed"


def test_websocket_example_in_a_signed_in_browser(
    page: Page, done: dict[str, Any], web_app: str, api: httpx.Client
) -> None:
    """No token in the page's code: the signed-in web monitor's session authenticates."""
    page.goto("/jobs")
    page.evaluate(
        """() => {
            window.__log = [];
            const log = console.log;
            console.log = (...args) => { window.__log.push(args.join(' ')); log(...args); };
            window.startTimer = () => window.__log.push('TIMER started');
            window.stopTimer = () => window.__log.push('TIMER stopped');
            window.updateUI = () => {};
        }"""
    )
    code = (EXAMPLES / "websocket.js.txt").read_text()
    ws_base = web_app.replace("http", "ws")
    page.add_script_tag(
        content=f"const workflowId = {json.dumps(done['workflow_id'])};\n"
        + code.replace("ws://localhost:8000", ws_base)
    )
    page.wait_for_function("() => ws.readyState === WebSocket.OPEN", timeout=30_000)
    start_job(api, "basic_sequence", {"records": 20})
    page.wait_for_function("() => window.__log.includes('TIMER stopped')", timeout=90_000)
    log = page.evaluate("() => window.__log")
    assert log[:2] == ["Workflow started", "TIMER started"], log
    assert [x for x in log if x.endswith(" completed")] == [f"{n} completed" for n in STEP_NAMES]
    assert log[-2].startswith("Workflow completed in "), log
