"""`jobmonitor step execute`, `jobmonitor review`, `watch --interval` and seed 000's
tools/workflow_watch.py against the real API and a real worker process."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.cli.conftest import Cli

ROOT = Path(__file__).resolve().parents[2]
GATED = {
    "name": "gated",
    "steps": [
        {
            "key": "propose",
            "action": "test.items",
            "run": "manual",
            "input_schema": {
                "type": "object",
                "properties": {"size": {"type": "integer", "minimum": 1}},
                "additionalProperties": False,
            },
        },
        {
            "key": "gate",
            "run": "review",
            "items_from": "propose",
            "depends_on": ["propose"],
            "editable": {"label": {"type": "string"}},
        },
        {"key": "use", "action": "test.upstream", "depends_on": ["gate"]},
    ],
}


def wait_for(cli: Cli, job_id: str, step: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while cli.engine.steps(uuid.UUID(job_id))[step]["status"] != status:
        assert time.monotonic() < deadline, f"{step} never became {status}"
        time.sleep(0.1)


def test_execute_review_and_watch_from_the_command_line(cli: Cli) -> None:
    cli.engine.register(GATED)
    job_id = cli.start("gated")
    cli.worker()
    wait_for(cli, job_id, "propose", "waiting")
    refused = cli("step", "execute", job_id, "propose", "--set", "size=0")
    assert refused.exit_code == 2 and "payload.size" in refused.stderr
    assert cli("step", "execute", job_id, "propose", "--payload", "[1]").exit_code == 2
    done = cli.json(
        "step", "execute", job_id, "propose", "--set", "size=2", "--idempotency-key", "k1"
    )
    assert done["success"] is True and done["status"] == "completed" and not done["replayed"]
    again = cli("step", "execute", job_id, "propose", "--set", "size=2", "--idempotency-key", "k1")
    assert again.exit_code == 0 and "replay of an earlier execution" in again.stdout
    other = cli("step", "execute", job_id, "propose", "--set", "size=3", "--idempotency-key", "k1")
    assert other.exit_code == 2 and "another payload" in other.stderr
    wait_for(cli, job_id, "gate", "waiting")

    listed = cli.json("review", job_id)
    assert listed["counts"] == {"total": 4, "approved": 0, "rejected": 0, "undecided": 4}
    denied = cli("review", job_id, "--approve", "i1", role="viewer")
    assert denied.exit_code == 2
    decided = cli.json(
        "review", job_id, "--approve", "i1,i2", "--reject", "i3", "--patch", "i2", "label=new"
    )
    assert decided["counts"] == {"total": 4, "approved": 2, "rejected": 1, "undecided": 1}
    items = {i["id"]: i for i in decided["items"]}
    assert items["i2"]["item"]["label"] == "new" and items["i2"]["decided_by"]
    table = cli("review", job_id)
    assert table.exit_code == 0 and "1 undecided" in table.stdout and "(edited)" in table.stdout
    early = cli("review", job_id, "--submit")
    assert early.exit_code == 2 and "undecided" in early.stderr
    submitted = cli("review", job_id, "--submit", "--undecided", "reject")
    assert submitted.exit_code == 0, submitted.stderr

    watched = cli("watch", job_id, "--interval", "0.5")
    assert watched.exit_code == 0, watched.stderr
    assert "step gate" in watched.stdout and "-> completed" in watched.stdout
    steps = cli.engine.steps(uuid.UUID(job_id))
    use = steps["use"]["output_data"]["upstream"]["gate"]["items"]
    assert [(i["id"], i["decision"]) for i in use] == [
        ("i1", "approved"),
        ("i2", "approved"),
        ("i3", "rejected"),
        ("i4", "rejected"),
    ]


def test_the_seed_watcher_prints_transitions_and_exits_by_the_outcome(cli: Cli) -> None:
    job_id = cli.start("echo3")
    cli.worker()
    argv = [sys.executable, str(ROOT / "tools" / "workflow_watch.py")]
    args = ["--base-url", f"{cli.url}/api", "--token", cli.tokens["viewer"], "--job-id", job_id]
    done = subprocess.run(
        [*argv, *args, "--interval", "2"], capture_output=True, text=True, timeout=120, cwd="/"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].split()[1] == "job" and "-> completed" in lines[-1]
    assert any(line.split()[1:3] == ["step", "a"] and "-> running" in line for line in lines)
    failed = cli.start("broken")
    code = subprocess.run(
        [*argv, *args[:-1], failed, "--interval", "2"], capture_output=True, timeout=120, cwd="/"
    ).returncode
    assert code == 1
    unknown = subprocess.run(
        [*argv, *args[:-1], str(uuid.uuid4())], capture_output=True, text=True, timeout=60
    )
    assert unknown.returncode == 2 and "not found" in unknown.stderr
