"""JOBMONITOR_LOG_FORMAT=json: every line a worker (forking, the step in its work horse) and
the API (`jobmonitor api`, uvicorn's access log included) write on stderr is a JSON object,
with the job, step and attempt, or the request id, as fields."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from cli.services.system import free_port
from tests.integration.conftest import Engine, chain


def _json_lines(path: Path) -> list[dict[str, Any]]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    assert lines, f"{path.name} is empty"
    return [json.loads(line) for line in lines]  # every line: JSON, or this fails


def _spawn(log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "cli.main", *args],
            env={**os.environ, "JOBMONITOR_LOG_FORMAT": "json"},
            stderr=stderr,
            start_new_session=True,
        )


def test_a_worker_logs_json_with_job_step_and_attempt(engine: Engine, tmp_path: Path) -> None:
    engine.register(chain("logged", "prepare", "warn_me", action="test.warn"))
    job_id = engine.create("logged")
    log = tmp_path / "worker.log"
    worker = _spawn(log, "worker", "--burst")
    assert worker.wait(timeout=120) == 0
    assert engine.job(job_id)["status"] == "completed"
    entries = _json_lines(log)
    warned = [e for e in entries if e["message"] == "careful with warn_me"]
    assert len(warned) == 1, entries
    assert warned[0]["level"] == "warning" and warned[0]["logger"] == "tests.steps"
    assert warned[0]["job_id"] == str(job_id)
    assert warned[0]["step"] == "warn_me" and warned[0]["attempt"] == "1"
    assert {"time", "pid", "attempt_id"} <= set(warned[0])


def test_the_api_logs_json_with_the_request_id(engine: Engine, tmp_path: Path) -> None:
    token = engine.token("viewer", "logs")
    port = free_port(48100)
    log = tmp_path / "api.log"
    api = _spawn(log, "api", "--port", str(port))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        answer = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/me",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "trace-4711"},
            timeout=10,
        )
        assert answer.status_code == 200
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(timeout=30)
    entries = _json_lines(log)
    traced = [e for e in entries if e.get("request_id") == "trace-4711"]
    assert len(traced) == 1, entries
    assert traced[0]["logger"] == "uvicorn.access" and "GET /api/v1/me" in traced[0]["message"]
    assert any(e["logger"] == "uvicorn.error" for e in entries)  # startup and shutdown too
