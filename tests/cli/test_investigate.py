"""`compare`, `jobs --search`, `rerun --from --set`, `failures` and `views` against the real
API and real runs."""

from __future__ import annotations

import uuid

from tests.api.investigate import PIPE
from tests.cli.conftest import Cli


def _run(cli: Cli, workflow: str, *sets: str) -> str:
    args = [a for s in sets for a in ("--set", s)]
    job = cli.start(workflow, *args)
    cli.engine.drain(uuid.UUID(job))
    return job


def test_compare_search_and_rerun_from_a_step(cli: Cli) -> None:
    cli.engine.register(PIPE)
    a = _run(cli, "pipe", "n=1", "mode=fast")
    b = _run(cli, "pipe", "n=2", "mode=slow")
    result = cli("compare", a, b)
    assert result.exit_code == 0, result.stderr
    assert "outputs equal up to `extract`; differ from `transform`" in result.stderr
    assert "$.n" in result.stdout and "transform ◀" in result.stdout
    assert cli.json("compare", a, b)["first_divergence"] == "transform"
    found = cli.json("jobs", "--search", "input.mode=fast input.n>=1")
    assert [j["id"] for j in found] == [a]
    bad = cli("jobs", "--search", "colour=red")
    assert bad.exit_code == 2 and "unknown field 'colour'" in bad.stderr
    rerun = cli("rerun", a, "--from", "transform", "--set", "n=7", "--set", "mode=null")
    assert rerun.exit_code == 0, rerun.stderr
    assert "reused, not run again: extract" in rerun.stderr
    new = rerun.stdout.strip()
    assert cli.engine.drain(uuid.UUID(new))["status"] == "completed"
    steps = {s["step_key"]: s for s in cli.engine.steps(uuid.UUID(new)).values()}
    assert steps["transform"]["output_data"] == {"n": 7}
    assert steps["extract"]["reused_from_job_id"] == uuid.UUID(a)
    assert cli.engine.attempts(uuid.UUID(new), "extract") == []
    assert cli.json("show", new)["input_payload"] == {"n": 7}
    assert cli("rerun", a, "--from", "nope").exit_code == 2
    assert cli("rerun", a, "--set", "=x").exit_code == 2


def test_failures_and_views(cli: Cli) -> None:
    first = _run(cli, "broken")
    listing = cli("failures")
    assert (
        listing.exit_code == 0 and "broken" in listing.stdout and "1 open group" in listing.stderr
    )
    fp = cli.json("failures")["items"][0]["fingerprint"]
    assert cli("failures", "ack", fp).exit_code == 0
    assign = cli("failures", "assign", fp, "alice")
    assert "assigned to alice" in assign.stdout
    assert "note: flaky upstream" in cli("failures", "note", fp, "flaky upstream").stdout
    assert cli.json("failures", "resolve", fp)["status"] == "resolved"
    assert cli.json("failures", "--status", "open")["items"] == []
    _run(cli, "broken")
    assert cli.json("failures", "show", fp)["reopened"] is True
    assert cli("failures", "resolve", fp, role="viewer").exit_code == 2
    reran = cli("failures", "rerun", fp)
    assert reran.exit_code == 0 and first in reran.stdout and "re-ran 2" in reran.stderr
    assert cli("failures", "show", "f" * 32).exit_code == 2
    view = cli("views", "save", "fast", "input.mode=fast")
    assert view.exit_code == 0
    assert "fast" in cli("views", "list").stdout
    assert cli("views", "save", "bad", "colour=red").exit_code == 2
    assert cli("views", "delete", view.stdout.strip()).exit_code == 0
    assert cli.json("views", "list") == []
