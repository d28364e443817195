"""Reading jobs (`jobs`, `show`, `logs`, `export`) and acting on them (`cancel`, `resume`,
`rerun`), with the audit trail of those actions (`audit`)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli


def test_jobs_show_logs_and_export(cli: Cli, tmp_path: Path) -> None:
    cli.worker()
    done = cli.json("run", "echo3", "--watch")
    audited = cli.json("run", "audited", "--watch")
    failed_job = cli.json("run", "broken", "--watch", code=1)

    listed = cli.json("jobs")
    assert [j["id"] for j in listed] == [failed_job["id"], audited["id"], done["id"]]
    assert "input_payload" not in listed[0]
    assert [j["id"] for j in cli.json("jobs", "--status", "completed", "--workflow", "echo3")] == [
        done["id"]
    ]
    assert [j["id"] for j in cli.json("jobs", "--limit", "1")] == [failed_job["id"]]
    table = cli("jobs", "--status", "failed")
    assert (
        table.exit_code == 0
        and failed_job["id"] in table.stdout
        and "planned failure" in table.stdout
    )
    assert cli("jobs", "--status", "bogus").exit_code == 2
    unknown = cli("jobs", "--workflow", "ech03")
    assert unknown.exit_code == 2 and "did you mean: echo3?" in unknown.stderr

    shown = cli.json("show", done["id"])
    assert [s["step_key"] for s in shown["steps"]] == ["a", "b", "c"]
    assert all(
        len(s["attempts"]) == 1 and s["attempts"][0]["cost_usd"] == 0.25 for s in shown["steps"]
    )
    human = cli("show", done["id"]).stdout
    for text in ("echo3 v1", "completed", "steps", "attempts", "$0.75", "no state snapshot"):
        assert text in human, text

    audit = cli("show", audited["id"]).stdout
    assert "run audit" in audit and "items" in audit and "+3" in audit
    assert cli.json("show", audited["id"])["delta"]["items"] == 3

    failed = cli("show", failed_job["id"]).stdout
    assert "RuntimeError: planned failure 1/5" in failed

    logs = cli("logs", done["id"]).stdout
    assert next(line for line in logs.splitlines() if "echo " in line).split()[1:] == [
        "a#1",
        "INFO",
        "echo",
        "a",
        "attempt",
        "1",
    ]
    only_b = [
        json.loads(line)
        for line in cli("logs", done["id"], "--step", "b", "--json").stdout.splitlines()
    ]
    assert only_b and {line["step_id"] for line in only_b} == {"b"}
    assert "stdout line from b" in {line["message"] for line in only_b}
    assert cli("logs", done["id"], "--follow").exit_code == 0  # the job has ended: it returns
    missing = cli("logs", done["id"], "--step", "z")
    assert missing.exit_code == 2 and "its steps: a, b, c" in missing.stderr

    target = tmp_path / "job.json"
    assert cli("export", done["id"], "-o", str(target)).exit_code == 0
    document = json.loads(target.read_text())
    assert document["job"]["id"] == done["id"] and len(document["steps"]) == 3
    assert json.loads(cli("export", done["id"]).stdout)["job"]["id"] == done["id"]


def test_actions_are_audited(cli: Cli) -> None:
    job = cli.start("echo3")  # no worker: it stays pending
    cancelled = cli("cancel", job)
    assert cancelled.exit_code == 0 and "pending -> cancelled" in cancelled.stderr
    again = cli("cancel", job)
    assert again.exit_code == 2 and "only pending or running jobs can be cancelled" in again.stderr
    assert "jobmonitor rerun" in again.stderr
    assert cli.json("resume", job)["status"] == "pending"
    assert cli("cancel", job).exit_code == 0
    rerun = cli("rerun", job)
    assert rerun.exit_code == 0
    new_id = rerun.stdout.strip()
    assert cli.json("show", new_id)["rerun_of"] == job
    assert cli("resume", new_id).exit_code == 2
    assert cli("cancel", "not-a-uuid").exit_code == 2
    assert cli("cancel", "3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42").exit_code == 2
    assert cli("cancel", job, role="viewer").exit_code == 2

    entries = cli.json("audit", "--since", "1h", role="admin")
    trail = [
        (e["action"], e["target_id"], e["status_before"], e["status_after"])
        for e in reversed(entries)
    ]
    assert trail == [
        ("job.create", job, None, "pending"),
        ("job.cancel", job, "pending", "cancelled"),
        ("job.resume", job, "cancelled", "pending"),
        ("job.cancel", job, "pending", "cancelled"),
        ("job.rerun", job, "cancelled", "pending"),
    ]
    assert all(
        e["actor"] == "token:operator-token (jm_" + e["actor"].split("jm_")[1] for e in entries
    )
    assert (
        cli.json("audit", "--action", "job.rerun", role="admin")[0]["data"]["new_job_id"] == new_id
    )
    assert cli.json("audit", "--since", "2099-01-01T00:00", role="admin") == []
    table = cli("audit", "--target", job, role="admin")
    assert table.exit_code == 0 and "pending -> cancelled" in table.stdout
    assert cli("audit", role="operator").exit_code == 2
    assert cli("audit", "--since", "yesterday", role="admin").exit_code == 2
