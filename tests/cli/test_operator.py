"""Operator commands: `doctor` (pre-flight), `prune` (retention), `workflows` (list, show,
register, offline validate)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from apiclient.errors import Unavailable
from apiclient.sync import SyncClient
from backend.settings import reset_settings
from tests.cli.conftest import Cli


def _checks(report: dict) -> dict[str, dict]:
    return {c["name"]: c for c in report["checks"]}


def test_doctor_fails_without_workers_and_passes_with_one(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBMONITOR_WORKERS", "1")  # the count doctor expects
    reset_settings()
    cli.start("echo3")  # pending: no worker runs it
    result = cli("doctor")
    assert result.exit_code == 1
    for name in (
        "database",
        "migrations",
        "redis",
        "workers",
        "queue",
        "stuck attempts",
        "pending jobs",
        "reaper",
        "failures (24 h)",
    ):
        assert name in result.stdout, name
    assert "no worker listens on queue" in result.stdout and "echo3: 1" in result.stdout
    assert "failed: workers, pending jobs" in result.stderr  # which checks failed
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert rows["workers"].split()[1] == "fail" and rows["database"].split()[1] == "ok"
    assert "no worker on their queue" in result.stdout
    report = cli.json("doctor", code=1)
    checks = _checks(report)
    assert (
        report["ok"] is False
        and report["verdict"] == "fail"
        and checks["workers"]["verdict"] == "fail"
    )
    assert checks["pending jobs"]["data"]["by_workflow"] == {"echo3": 1}
    assert cli("doctor", role="viewer").exit_code == 2  # operator or admin

    cli.worker()
    deadline = time.monotonic() + 20
    while (result := cli("doctor")).exit_code != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert result.exit_code == 0, result.stdout
    assert "all checks passed" in result.stderr
    report = cli.json("doctor", role="admin")
    workers = _checks(report)["workers"]["data"]["workers"]
    assert len(workers) == 1 and workers[0]["queues"] == [os.environ["JOBMONITOR_QUEUE"]]

    def database_down(self: SyncClient) -> dict:
        raise Unavailable("the database is unavailable, retry later", status=503)

    monkeypatch.setattr(
        SyncClient, "doctor", database_down
    )  # the API answers, but cannot check tokens
    degraded = cli.json("doctor", code=1)
    assert [(c["name"], c["verdict"]) for c in degraded["checks"]] == [
        ("api", "ok"),
        ("database", "ok"),
        ("redis", "ok"),
        ("other checks", "fail"),
    ]


def _count(cli: Cli, table: str) -> int:
    row = cli.engine.conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()
    return int(row["n"]) if row else 0


def test_prune_dry_run_deletes_nothing_then_prune_deletes(cli: Cli) -> None:
    old = [cli.start("echo3") for _ in range(3)]
    keep = cli.start("echo3")
    for job in [*old, keep]:
        assert cli("cancel", job).exit_code == 0
    cli.engine.conn.execute(
        "UPDATE jobs SET completed_at = now() - interval '40 days' WHERE id = ANY(%s::uuid[])",
        (old,),
    )
    before = {t: _count(cli, t) for t in ("jobs", "job_steps", "step_attempts", "job_events")}

    dry = cli.json("prune", "--older-than", "30d", "--dry-run", role="admin")
    assert dry["dry_run"] is True and dry["counts"]["jobs"] == 3 and dry["counts"]["job_steps"] == 9
    assert sorted(dry["job_ids"]) == sorted(old) and dry["counts"]["job_events"] > 0
    assert {t: _count(cli, t) for t in before} == before
    text = cli("prune", "--older-than", "30d", "--dry-run", role="admin")
    assert "dry run: would delete 3 job(s)" in text.stderr and old[0] in text.stdout

    assert (
        cli.json("prune", "--older-than", "30d", "--status", "failed", "--dry-run", role="admin")[
            "counts"
        ]["jobs"]
        == 0
    )
    done = cli.json("prune", "--older-than", "30d", role="admin")
    assert done["dry_run"] is False and done["counts"]["jobs"] == 3
    assert [r["id"] for r in cli.engine.conn.execute("SELECT id::text FROM jobs")] == [keep]
    entry = cli.json("audit", "--action", "jobs.prune", role="admin")
    assert len(entry) == 1 and entry[0]["data"]["counts"] == done["counts"]

    bad_age = cli("prune", "--older-than", "30 days", role="admin")
    assert bad_age.exit_code == 2 and "90s, 45m, 12h, 30d or 2w" in bad_age.stderr
    assert cli("prune", "--older-than", "30d", "--status", "running", role="admin").exit_code == 2
    assert cli("prune", "--older-than", "30d", role="operator").exit_code == 2  # admin only
    assert cli("prune", role="admin").exit_code == 2  # --older-than is required


INVALID = {
    "name": "bad one",
    "steps": [
        {"key": "a", "action": "test.echo", "depends_on": ["c"]},
        {"key": "b", "action": "nope.missing"},
        {"key": "b", "action": "test.echo"},
        {
            "key": "c",
            "action": "test.echo",
            "depends_on": ["a", "ghost"],
            "condition": "steps.zzz.ok ==",
        },
    ],
}
VALID = {
    "name": "fresh",
    "steps": [
        {"key": "one", "action": "test.echo"},
        {"key": "two", "action": "test.noop", "depends_on": ["one"]},
    ],
}


def test_workflows_list_show_register_and_validate(cli: Cli, tmp_path: Path) -> None:
    names = [w["name"] for w in cli.json("workflows")]
    assert {"echo3", "broken", "single", "typed", "audited"} <= set(names)
    assert "echo3" in cli("workflows").stdout and cli.json("workflows", "list") == cli.json(
        "workflows"
    )
    shown = cli("workflows", "show", "echo3")
    assert shown.exit_code == 0 and "test.echo" in shown.stdout and "echo3 v1" in shown.stdout
    assert cli.json("workflows", "show", "typed")["input_schema"]["required"] == ["count"]
    missing = cli("workflows", "show", "echo")
    assert missing.exit_code == 2 and "did you mean: echo3?" in missing.stderr

    valid, invalid = tmp_path / "fresh.yaml", tmp_path / "bad.json"
    valid.write_text(json.dumps(VALID))  # YAML is a superset of JSON
    invalid.write_text(json.dumps(INVALID))
    assert cli("workflows", "register", str(valid), role="operator").exit_code == 2  # admin only
    registered = cli("workflows", "register", str(valid), role="admin")
    assert registered.exit_code == 0 and "registered fresh v1" in registered.stderr
    assert "unchanged" in cli("workflows", "register", str(valid), role="admin").stderr
    refused = cli("workflows", "register", str(invalid), role="admin")
    assert (
        refused.exit_code == 2
        and "name" in refused.stderr
        and "workflows validate" in refused.stderr
    )

    # offline: no server, no token
    ok = cli(
        "workflows", "validate", str(valid), role=None, env={"JOBMONITOR_URL": "http://127.0.0.1:9"}
    )
    assert ok.exit_code == 0 and "valid workflow 'fresh' with 2 step(s)" in ok.stderr
    bad_name = cli("workflows", "validate", str(invalid), role=None)
    assert bad_name.exit_code == 1 and "name" in bad_name.stdout
    INVALID["name"] = "bad_one"
    invalid.write_text(json.dumps(INVALID))
    report = cli("workflows", "validate", str(invalid), "--json", role=None)
    assert report.exit_code == 1
    problems = {(p["path"], p["msg"]) for p in json.loads(report.stdout)["problems"]}
    assert ("steps[2].key", "duplicate step key 'b'") in problems
    assert ("steps[1].action", "unknown action 'nope.missing'") in problems
    assert ("steps[3].depends_on[1]", "unknown step 'ghost'") in problems
    assert any(path == "steps[3].condition" for path, _ in problems)
    assert any(path.startswith("steps[") and "cycle" in msg for path, msg in problems)
    table = cli("workflows", "validate", str(invalid), role=None)
    assert table.exit_code == 1 and f"{len(problems)} problem(s)" in table.stderr
    assert all(path in table.stdout for path, _ in problems)
    unchecked = json.loads(
        cli("workflows", "validate", str(invalid), "--no-check-actions", "--json", role=None).stdout
    )
    assert not any("unknown action" in p["msg"] for p in unchecked["problems"])
    assert cli("workflows", "validate", str(tmp_path / "none.yaml"), role=None).exit_code == 2
    (tmp_path / "broken.yaml").write_text("steps: [a\n")
    assert cli("workflows", "validate", str(tmp_path / "broken.yaml"), role=None).exit_code == 2
