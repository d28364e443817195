"""CLI fixtures: the real API on a real uvicorn server (a thread of this process) over the test's
own database and Redis db, tokens of every role, test workflows, real worker processes, and
`cli(...)` which runs `jobmonitor` in-process with typer's CliRunner.

    cli("run", "echo3", "--watch")             -> click Result (exit_code, stdout, stderr)
    cli.json("jobs", "--status", "running")    -> the parsed --json output (exit 0 checked)
    cli.worker()                               -> a `jobmonitor worker --simple` process
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from backend.api.app import create_app
from backend.auth.service import Role, bootstrap_token
from backend.db import close_api_pool, connect
from backend.workflows.service import register_workflow
from cli.main import app
from tests.api.conftest import serve_in_thread
from tests.integration.conftest import Engine, chain

NO_RETRY = {"max_attempts": 1, "backoff_seconds": 0}
RETRY_ONCE = {
    "max_attempts": 2,
    "backoff_seconds": 0,
}  # a second attempt at once (no reaper needed)
COUNT_SCHEMA = {
    "type": "object",
    "properties": {"count": {"type": "integer", "minimum": 1}},
    "required": ["count"],
}
WORKFLOWS: list[dict[str, Any]] = [
    chain("echo3", "a", "b", "c"),
    {
        "name": "broken",
        "steps": [
            {"key": "boom", "action": "test.flaky", "params": {"fail_times": 5}, "retry": NO_RETRY}
        ],
    },
    {
        "name": "flaky",
        "steps": [
            {"key": "try", "action": "test.flaky", "params": {"fail_times": 1}, "retry": RETRY_ONCE}
        ],
    },
    {
        "name": "single",
        "concurrency": {"max_concurrent_jobs": 1},
        "steps": [{"key": "s", "action": "test.noop"}],
    },
    {
        "name": "typed",
        "input_schema": COUNT_SCHEMA,
        "steps": [{"key": "only", "action": "test.echo"}],
    },
    {
        "name": "audited",
        "snapshot": "test.counter",
        "steps": [{"key": "add", "action": "test.add_items", "params": {"n": 3}}],
    },
]


@dataclass
class Cli:
    url: str
    tokens: dict[str, str]
    engine: Engine
    config_home: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __call__(
        self,
        *args: str,
        role: str | None = "operator",
        env: dict[str, str | None] | None = None,
        stdin: str | None = None,
    ) -> Result:
        """Run `jobmonitor ARGS` against the test server as `role` (None: no URL or token)."""
        base: dict[str, str | None] = {
            "JOBMONITOR_URL": self.url if role else None,
            "JOBMONITOR_TOKEN": self.tokens[role] if role else None,
            "XDG_CONFIG_HOME": str(self.config_home),
            "COLUMNS": "200",
        }
        return CliRunner().invoke(
            app, list(args), env={**base, **(env or {})}, input=stdin, catch_exceptions=False
        )

    def json(self, *args: str, role: str = "operator", code: int = 0) -> Any:
        result = self(*args, "--json", role=role)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return json.loads(result.stdout)

    def start(self, workflow: str = "echo3", *args: str) -> str:
        """Start a job (no watch); its id."""
        return str(self.json("run", workflow, *args)["id"])

    def worker(self) -> subprocess.Popen[bytes]:
        process = self.engine.spawn_worker(simple=True, burst=False)
        self.workers.append(process)
        return process

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        self.workers.clear()


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[str]:
    """The API on a real uvicorn server: its base URL (http://127.0.0.1:PORT)."""
    with serve_in_thread(create_app(), timeout_graceful_shutdown=1) as base:
        yield base
    close_api_pool()


@pytest.fixture
def cli(server: str, tmp_path: Path) -> Iterator[Cli]:
    with connect(autocommit=True) as conn:
        engine = Engine(conn)
        slug = f"cli-{uuid.uuid4().hex[:6]}"
        tokens = {}
        for role in Role:
            with conn.transaction():
                tokens[role.value] = bootstrap_token(conn, slug, role, f"{role.value}-token")[0]
        workspace = conn.execute("SELECT id FROM workspaces WHERE slug = %s", (slug,)).fetchone()
        assert workspace is not None
        engine.workspace_id = workspace["id"]
        with conn.transaction():
            for definition in WORKFLOWS:
                register_workflow(conn, engine.workspace_id, definition)
        runner = Cli(url=server, tokens=tokens, engine=engine, config_home=tmp_path / "config")
        try:
            yield runner
        finally:
            runner.stop_workers()
