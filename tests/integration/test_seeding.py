"""Seeding the examples: the telemetry contract's `python -m backend.scripts.seed_workflows`
and `jobmonitor seed` are one code path; --workspace-id, --project-id, --skip-existing."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg

from backend.auth.service import create_workspace_if_missing
from examples import WORKFLOW_NAMES

ROOT = Path(__file__).resolve().parents[2]
JOBMONITOR = str(Path(sys.executable).with_name("jobmonitor"))


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def script(*args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "backend.scripts.seed_workflows", *args])


def tags(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> dict[str, tuple[str, int]]:
    rows = conn.execute(
        "SELECT name, project_id, latest_version FROM workflows WHERE workspace_id = %s",
        (workspace_id,),
    ).fetchall()
    return {r["name"]: (r["project_id"], r["latest_version"]) for r in rows}


def test_the_contract_command_and_jobmonitor_seed(
    conn: psycopg.Connection[Any], env: dict[str, str]
) -> None:
    with conn.transaction():
        ws = create_workspace_if_missing(conn, "analytics")[0].id
    first = script("--workspace-id", str(ws))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"registered {n}" for n in WORKFLOW_NAMES]
    assert tags(conn, ws) == {n: ("default", 1) for n in WORKFLOW_NAMES}

    tagged = script("--workspace-id", str(ws), "--project-id", "proj-7")
    assert tagged.stdout.splitlines() == [f"unchanged  {n}" for n in WORKFLOW_NAMES]
    assert tags(conn, ws) == {n: ("proj-7", 1) for n in WORKFLOW_NAMES}

    skipped = script("--workspace-id", str(ws), "--project-id", "other", "--skip-existing")
    assert skipped.stdout.splitlines() == [f"skipped    {n}" for n in WORKFLOW_NAMES]
    assert tags(conn, ws) == {n: ("proj-7", 1) for n in WORKFLOW_NAMES}

    same = run([JOBMONITOR, "seed", "--workspace-id", str(ws), "--skip-existing"])
    assert same.returncode == 0 and same.stderr.splitlines() == skipped.stdout.splitlines()
    by_slug = run([JOBMONITOR, "seed", "--workspace", "fresh", "--project-id", "p"])
    assert by_slug.returncode == 0 and "registered basic_sequence" in by_slug.stderr


def test_bad_input_is_refused_with_the_reason(env: dict[str, str]) -> None:
    unknown = script("--workspace-id", str(uuid.uuid4()))
    assert (
        unknown.returncode == 2 and "workspace" in unknown.stderr and "not found" in unknown.stderr
    )
    malformed = script("--workspace-id", "ws-1")
    assert malformed.returncode == 2 and "not a UUID" in malformed.stderr
    assert script().returncode == 2  # --workspace-id is required
    long = script("--workspace-id", str(uuid.uuid4()), "--project-id", "x" * 101)
    assert long.returncode == 2 and "1-100 characters" in long.stderr
