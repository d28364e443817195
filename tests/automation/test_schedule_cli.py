"""`jobmonitor schedule add|list|pause|resume|delete|next` against the real API."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from tests.cli.conftest import Cli


def test_schedule_commands(cli: Cli) -> None:
    added = cli("schedule", "add", "typed", "--name", "often", "--every", "15m", "--set", "count=2")
    assert added.exit_code == 0, added.stderr
    sid = added.stdout.strip()
    assert "next due" in added.stderr
    listed = cli.json("schedule", "list", "--workflow", "typed", role="viewer")
    assert [s["id"] for s in listed] == [sid]
    assert listed[0]["interval_seconds"] == 900 and listed[0]["input_payload"] == {"count": 2}
    table = cli("schedule", "list", role="viewer")
    assert "every 900s" in table.stdout and "often" in table.stdout
    times = cli.json("schedule", "next", sid, "--count", "3", role="viewer")["times"]
    parsed = [datetime.fromisoformat(t) for t in times]
    assert [b - a for a, b in itertools.pairwise(parsed)] == [timedelta(minutes=15)] * 2
    paused = cli("schedule", "pause", sid)
    assert paused.exit_code == 0 and "paused" in paused.stderr
    assert cli.json("schedule", "list")[0]["next_due_at"] is None
    assert cli("schedule", "resume", sid).exit_code == 0
    assert cli.json("schedule", "list")[0]["enabled"] is True
    assert cli("schedule", "delete", sid).exit_code == 0
    assert cli.json("schedule", "list") == []


def test_schedule_add_refusals(cli: Cli) -> None:
    both = cli("schedule", "add", "echo3", "--name", "x", "--cron", "* * * * *", "--every", "5m")
    assert both.exit_code == 2 and "exactly one of --cron or --every" in both.stderr
    bad_every = cli("schedule", "add", "echo3", "--name", "x", "--every", "soon")
    assert bad_every.exit_code == 2 and "not an interval" in bad_every.stderr
    bad_cron = cli("schedule", "add", "echo3", "--name", "x", "--cron", "99 * * * *")
    assert bad_cron.exit_code == 2 and "cron" in bad_cron.stderr
    bad_input = cli("schedule", "add", "typed", "--name", "x", "--every", "1h", "--set", "count=0")
    assert bad_input.exit_code == 2 and "input_payload.count" in bad_input.stderr
    viewer = cli("schedule", "add", "echo3", "--name", "x", "--every", "1h", role="viewer")
    assert viewer.exit_code == 2 and "operator" in viewer.stderr
    assert cli("schedule", "pause", "00000000-0000-0000-0000-000000000000").exit_code == 2
