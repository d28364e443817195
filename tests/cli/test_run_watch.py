"""`run` and `watch` against the real API with real workers: live progress, exit codes by the
outcome, transitions in order, reconnection with Last-Event-ID, and the polling fallback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from apiclient.errors import Unreachable
from apiclient.sync import SyncClient
from cli.commands.run import SET_FORM
from tests.cli.conftest import Cli


def test_run_watch_exits_by_the_outcome(cli: Cli) -> None:
    cli.worker()
    done = cli("run", "echo3", "--watch")
    assert done.exit_code == 0, done.stderr
    assert "started job" in done.stderr
    for key in ("a", "b", "c"):
        assert key in done.stdout
    assert "completed: job" in done.stdout and "1/1" in done.stdout and "100%" in done.stdout

    failed = cli("run", "broken", "--watch")
    assert failed.exit_code == 1
    assert "failed: job" in failed.stdout and "planned failure 1/5" in failed.stdout
    assert "jobmonitor resume" in failed.stderr

    as_json = cli("run", "broken", "--watch", "--json")
    assert as_json.exit_code == 1
    job = json.loads(as_json.stdout)
    assert job["status"] == "failed" and [s["status"] for s in job["steps"]] == ["failed"]

    retried = cli.json("run", "flaky", "--watch")
    assert retried["status"] == "completed" and retried["steps"][0]["attempt_number"] == 2


def _lines(stdout: str) -> list[str]:
    """Watch lines without their clock: "job -> pending", "step a queued -> running"..."""
    return [" ".join(line.split()[1:]) for line in stdout.splitlines() if line.strip()]


def _changes(lines: list[str]) -> list[tuple[str, str | None, str]]:
    """(object, from, to) of each watch line: ("step a", "queued", "running")."""
    changes = []
    for line in lines:
        match = re.match(r"^(job|step \S+|attempt \S+)\s+(?:(\S+) )?-> (\S+)", line)
        assert match, line
        changes.append((match[1], match[2], match[3]))
    return changes


def _check_echo3(lines: list[str]) -> None:
    changes = _changes(lines)
    assert changes[0] == ("job", None, "pending") and changes[-1] == ("job", "running", "completed")
    assert ("job", "pending", "running") in changes
    steps = [c for c in changes if c[0] != "job"]
    assert steps == [
        (f"step {k}", a, b)
        for k in "abc"
        for a, b in (("pending", "queued"), ("queued", "running"), ("running", "completed"))
    ]
    assert "attempt 1" in lines[1] and re.search(
        r"\d+\.\ds$", lines[changes.index(("step a", "running", "completed"))]
    )


def test_watch_prints_each_transition_in_order(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = cli.start("echo3")
    cli.worker()
    watched = cli("watch", job_id)
    assert watched.exit_code == 0, watched.stderr
    assert f"watching job {job_id}" in watched.stderr
    lines = _lines(watched.stdout)
    _check_echo3(lines)

    events = [json.loads(line) for line in cli("watch", job_id, "--json").stdout.splitlines()]
    ids = [e["event_id"] for e in events]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == len(lines)
    assert events[-1]["kind"] == "job" and events[-1]["to"] == "completed"

    # the stream drops after two events: the next connection resumes after the second one
    real_events = SyncClient.events
    calls: list[int | None] = []

    def dropping(
        self: SyncClient, job_id: str, last_event_id: int | None = None, on_open: Any = None
    ) -> Iterator[dict[str, Any]]:
        calls.append(last_event_id)
        for n, event in enumerate(real_events(self, job_id, last_event_id, on_open)):
            if len(calls) == 1 and n == 2:
                raise Unreachable("connection dropped", status=0)
            yield event

    monkeypatch.setattr(SyncClient, "events", dropping)
    resumed = cli("watch", job_id)
    assert resumed.exit_code == 0 and calls == [None, ids[1]]
    assert _lines(resumed.stdout) == lines

    failed = cli.start("broken")
    assert cli("watch", failed).exit_code == 1


def test_watch_polls_when_the_stream_is_unavailable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(self: SyncClient, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        raise Unreachable("no stream here", status=0)
        yield {}

    monkeypatch.setattr(SyncClient, "events", unavailable)
    monkeypatch.setattr("cli.follow.POLL_SECONDS", 0.2)
    monkeypatch.setattr("cli.follow.RETRY_SECONDS", 0.01)
    job_id = cli.start("broken")
    cli.worker()
    watched = cli("watch", job_id)
    assert watched.exit_code == 1
    assert "event stream unavailable (no stream here); polling every" in watched.stderr
    lines = _lines(watched.stdout)
    assert lines[-1].startswith("job ") and "-> failed" in lines[-1], lines
    assert any(line.startswith("step boom") and "-> failed" in line for line in lines), lines


def test_run_refuses_bad_input_with_the_expected_form(cli: Cli) -> None:
    bad_set = cli("run", "echo3", "--set", "records")
    assert bad_set.exit_code == 2 and "invalid --set 'records'" in bad_set.stderr
    assert "KEY=VALUE" in bad_set.stderr and "--set records=100" in bad_set.stderr
    assert SET_FORM.split(",")[0] in bad_set.stderr.replace("\n", " ")
    assert cli("run", "echo3", "--input", "{records: 1}").exit_code == 2
    assert cli("run", "echo3", "--input", "[]").exit_code == 2
    assert cli("run", "echo3", "--input", "{}", "--input-file", "x.json").exit_code == 2

    unknown = cli("run", "echo", "--set", "records=1")
    assert unknown.exit_code == 2
    assert "workflow echo not found" in unknown.stderr and "did you mean: echo3?" in unknown.stderr

    schema = cli("run", "typed", "--set", "count=0")
    assert schema.exit_code == 2 and "input_payload.count" in schema.stderr

    job = cli.json(
        "run",
        "typed",
        "--input",
        '{"count": 1, "o": {"k": 1}}',
        "--set",
        "count=3",
        "--set",
        "o.mode=fast",
        "--set",
        "tags=[1, 2]",
        "--idempotency-key",
        "k-1",
    )
    assert job["input_payload"] == {"count": 3, "o": {"k": 1, "mode": "fast"}, "tags": [1, 2]}
    replay = cli(
        "run",
        "typed",
        "--input",
        '{"count": 1, "o": {"k": 1}}',
        "--set",
        "count=3",
        "--set",
        "o.mode=fast",
        "--set",
        "tags=[1, 2]",
        "--idempotency-key",
        "k-1",
    )
    assert (
        replay.exit_code == 0
        and "was used before" in replay.stderr
        and replay.stdout.strip() == job["id"]
    )
    piped = cli(
        "run", "typed", "--input-file", "-", "--set", "extra=true", "--json", stdin='{"count": 2}'
    )
    assert piped.exit_code == 0 and json.loads(piped.stdout)["input_payload"] == {
        "count": 2,
        "extra": True,
    }
    other = cli("run", "typed", "--set", "count=4", "--idempotency-key", "k-1")
    assert other.exit_code == 2 and "--idempotency-key" in other.stderr


def test_run_duplicate_detection_and_force(cli: Cli) -> None:
    first = cli.start("single")
    refused = cli("run", "single")
    assert refused.exit_code == 2
    assert (
        f"is already running job {first}" in refused.stderr
        and first in refused.stderr
        and "--force" in refused.stderr
    )
    running = cli.json("jobs", "--status", "pending", "--status", "running", "--workflow", "single")
    assert [j["id"] for j in running] == [first]
    forced = cli.json("run", "single", "--force")
    assert cli.json("show", first)["status"] == "cancelled" and forced["status"] == "pending"
