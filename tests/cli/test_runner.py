"""The runner's flags against real workers (seed 004's tools/run_workflow.py, seed 001's
cookbook): duplicate detection, the rate limit, --force with its audit entry, --list-running,
--stop, --mode single_item/single_run, --background with its log file, preflight, history and
the Markdown report."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Cli
from tests.integration.conftest import wait_for
from tests.stepdefs import ITEMS_WORKFLOW, read_items, write_items

NO_RETRY = {"max_attempts": 1, "backoff_seconds": 0}
BATCH = {
    "name": "batch",
    "snapshot": "test.items",
    "expected_work": "test.items_expected",
    "concurrency": {"max_concurrent_jobs": 1, "min_seconds_between_starts": 60},
    "steps": [{"key": "process", "action": "test.process_items", "retry": NO_RETRY}],
}
RESUMABLE = {"name": "resumable", **ITEMS_WORKFLOW}


@pytest.fixture
def items(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The test workflows, with their item store in this test's own directory (the API thread
    and the worker processes read the same file)."""
    monkeypatch.setenv("JOBMONITOR_DATA_DIR", str(tmp_path / "data"))
    for definition in (BATCH, RESUMABLE):
        cli.engine.register(definition)
    return cli


def status(cli: Cli, job: str) -> str:
    return str(cli.engine.job(job)["status"])  # type: ignore[arg-type]


def test_duplicates_rate_limit_force_list_running_and_stop(items: Cli) -> None:
    cli = items
    write_items({"pending": 3, "done": 0})
    cli.worker()
    first = cli.start("batch", "--set", "sleep=120")
    wait_for(lambda: status(cli, first) == "running", what="the first run to start")

    refused = cli("run", "batch")
    assert refused.exit_code == 2
    assert f"is already running job {first}" in refused.stderr
    assert "jobmonitor run --list-running" in refused.stderr

    one = cli.start("batch", "--mode", "single_posting", "--posting-id", "7")  # not a batch
    listed = cli("run", "--list-running")
    assert listed.exit_code == 0 and first in listed.stdout and one in listed.stdout
    assert "global_batch" in listed.stdout and "single_item" in listed.stdout
    running = cli.json("run", "batch", "--list-running")
    assert {(r["id"], r["status"]) for r in running} == {(first, "running"), (one, "pending")}
    cli.worker()  # the batch sleeps on the first worker, the single item runs on this one
    wait_for(lambda: status(cli, one) == "completed", what="the single item run")
    step = cli.engine.steps(one)["process"]  # type: ignore[arg-type]
    assert step["output_data"] == {"processed": 1, "mode": "single_item", "item_id": "7"}

    forced = cli.start("batch", "--force", "--set", "sleep=120")
    assert status(cli, first) == "cancelled"
    audit = cli.json("audit", "--target", first, "--action", "job.cancel", role="admin")
    assert audit[0]["data"]["replaced_by"] == forced
    assert forced in audit[0]["data"]["reason"]

    stopped = cli("run", "batch", "--stop", "--workflow-run-id", "3")  # its run number
    assert stopped.exit_code == 0, stopped.stderr
    assert f"stopped job {forced}" in stopped.stderr and "-> cancelled" in stopped.stderr
    assert cli.json("run", "--list-running") == []

    limited = cli("run", "batch")  # nothing runs, but the last batch started < 60 s ago
    assert limited.exit_code == 2
    assert f"job {forced} started" in limited.stderr and "retry in" in limited.stderr
    assert cli("run", "--stop").exit_code == 2  # the run is missing
    done = cli("run", "--stop", "--workflow-run-id", "1")  # batch #1, the seed's bare number
    assert done.exit_code == 2 and "only pending or running jobs can be cancelled" in done.stderr
    cli.start("echo3")  # echo3 #1
    ambiguous = cli("run", "--stop", "--workflow-run-id", "1")
    assert ambiguous.exit_code == 2 and "run number 1 is ambiguous" in ambiguous.stderr
    assert cli("run", "batch", "--mode", "nightly").exit_code == 2


def test_background_run_writes_its_log_file(
    items: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = items
    write_items({"pending": 4, "done": 0})
    cli.worker()  # from the checkout (it imports tests.stepdefs)
    monkeypatch.chdir(tmp_path)  # logs/ is made where `run` is called
    result = cli("run", "batch", "--background", "--set", "sleep=3")
    assert result.exit_code == 0, result.stderr
    job = result.stdout.strip()
    follower = int(re.search(r"follower pid (\d+)", result.stderr)[1])  # type: ignore[index]
    assert os.getsid(follower) == follower  # its own session: closing the terminal spares it
    log = next((tmp_path / "logs").glob("workflow_batch_*.log"))
    assert len(log.name) == len("workflow_batch_20260131_143522.log")
    for text in (
        f"log file: logs/{log.name}",
        f"tail -f logs/{log.name}",
        f"jobmonitor watch {job}",
        f"jobmonitor run --stop --workflow-run-id {job}",
    ):
        assert text in result.stderr, text
    try:
        content = wait_for(lambda: "# outcome" in log.read_text() and log.read_text())
    except AssertionError:
        raise AssertionError(f"no outcome in the log:\n{log.read_text()}") from None
    assert f"# job {job}: batch" in content
    assert "processed 4 item(s) in mode global_batch" in content  # the step's own log line
    assert "step process" in content and "running -> completed" in content
    assert content.rstrip().splitlines()[-1].startswith(f"# outcome: job {job} completed after")
    assert read_items() == {"pending": 0, "done": 4}


def test_single_run_resumes_and_history_and_report_keep_the_first_state(items: Cli) -> None:
    cli = items
    write_items({"pending": 5, "done": 0})
    cli.worker()
    failed = cli("run", "resumable", "--watch")
    assert failed.exit_code == 1
    job = cli.json("history", "resumable")["items"][0]["id"]
    resumed = cli("run", "resumable", "--mode", "single_run", "--workflow-run-id", "1", "--watch")
    assert resumed.exit_code == 0, resumed.stderr

    run = cli.json("history", "resumable")["items"][0]
    assert run["id"] == job and run["status"] == "completed"
    assert run["state_before"] == {"items_pending": 5, "items_done": 0}
    assert run["expected_work"] == {"pending_process": 5}
    assert run["state_after"] == {"items_pending": 0, "items_done": 5}
    assert run["delta"] == {"items_pending": -5, "items_done": 5}
    assert [s["status"] for s in run["segments"]] == ["failed", "completed"]
    assert run["requested_by"].startswith("token:operator-token")
    table = cli("history", "resumable", "--since", "1h")
    assert "items_done 0 -> 5 (+5)" in table.stdout and "resumable #1" in table.stdout

    report = cli("report", job)
    assert report.exit_code == 0, report.stderr
    md = report.stdout
    for text in (
        "# Workflow Run: resumable #1",
        "**Operator**: token:operator-token",
        "**Status**: completed",
        "## Before\n- items_done: 0\n- items_pending: 5",  # in jsonb's key order
        "## Expected\n- Process ~5 pending_process",
        "## After\n- items_done: 5 (+5)\n- items_pending: 0 (-5)",
        "## Steps\n- Completed: 2 of 2\n- Failed: 0",
        "## Attempts\n- Created: 3\n- Completed: 2\n- Failed: 1",
        "## Issues\n- rest attempt 1 (failed): RuntimeError: planned failure 1",
        "## Notes\n- None",
        "## Segments",
    ):
        assert text in md, text
    assert cli("run", "batch", "--mode", "single_run", "--workflow-run-id", job).exit_code == 2


def test_history_filters_and_pages(items: Cli) -> None:
    cli = items
    write_items({"pending": 2, "done": 0})
    cli.worker()
    batch = cli.start("batch")
    item = cli.start("batch", "--mode", "single_item", "--item-id", "x1")
    wait_for(lambda: {status(cli, batch), status(cli, item)} == {"completed"}, what="both runs")
    assert [r["id"] for r in cli.json("history", "--mode", "single_item")["items"]] == [item]
    assert cli.json("history", "--status", "failed")["items"] == []
    assert len(cli.json("history", "--requested-by", "OPERATOR-token")["items"]) == 2
    assert cli.json("history", "--requested-by", "admin")["items"] == []
    headers = {"Authorization": f"Bearer {cli.tokens['viewer']}"}
    page = httpx.get(f"{cli.url}/api/v1/runs", params={"limit": 1}, headers=headers).json()
    assert page["has_more"] is True and page["items"][0]["id"] == item
    page = httpx.get(
        f"{cli.url}/api/v1/runs", params={"limit": 1, "skip": 1}, headers=headers
    ).json()
    assert page["has_more"] is False and page["items"][0]["id"] == batch
    bad = httpx.get(f"{cli.url}/api/v1/runs", params={"mode": "weekly"}, headers=headers)
    assert bad.status_code == 422 and "mode" in json.dumps(bad.json())


def test_preflight_with_and_without_pending_work(items: Cli) -> None:
    cli = items
    write_items({"pending": 0, "done": 3})
    nobody = cli("preflight", "batch")
    assert nobody.exit_code == 1 and "failed: workers" in nobody.stderr
    cli.worker()
    idle = wait_for(lambda: (r := cli("preflight", "batch")).exit_code == 0 and r, what="ready")
    assert "nothing pending: pending_process 0" in idle.stdout
    assert "test.items: items_pending 0, items_done 3" in idle.stdout

    write_items({"pending": 4, "done": 3})
    report = cli.json("preflight", "batch")
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True
    assert checks["expected work"]["verdict"] == "ok"
    assert checks["expected work"]["data"]["expected_work"] == {"pending_process": 4}
    assert checks["snapshot"]["data"]["state"] == {"items_pending": 4, "items_done": 3}
    assert checks["duplicate run"]["verdict"] == "ok"
    assert checks["workers"]["verdict"] == "ok"

    running = cli.start("batch", "--set", "sleep=120")
    wait_for(lambda: status(cli, running) == "running", what="the run")
    busy = cli("preflight", "batch")
    assert busy.exit_code == 1 and "failed: duplicate run" in busy.stderr
    assert f"job {running} is running" in busy.stdout
    assert cli("preflight", "no_such_flow").exit_code == 2
    assert cli("preflight", "batch", role="viewer").exit_code == 2
