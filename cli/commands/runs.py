"""The run cookbook's commands around a run: `preflight WORKFLOW` (the pre-flight checklist,
GET /workflows/{id}/preflight), `history` (the run history with before, after and delta,
GET /runs) and `report JOB` (the run log template as Markdown, GET /runs/{id}/report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from apiclient.format import delta_text, signed
from cli import output
from cli.commands.audit import parse_since
from cli.commands.common import JobId, Json, Token, Url, client, job_id
from cli.commands.doctor import print_checks

PREFLIGHT_EPILOG = """Example:

  jobmonitor preflight data_pipeline && jobmonitor run data_pipeline --background

Checks: the snapshot now, the expected work (the workflow's expected_work function, for its
default input), whether a global_batch start would be refused (a running job, the rate limit),
stuck work (attempts past their lease, jobs pending longer than 5 minutes), the workers on the
queue, failures of the last 24 h by error type. Exit code 1 when a check fails.
"""
HISTORY_EPILOG = """Examples:

  jobmonitor history data_pipeline --since 24h

  jobmonitor history --status failed --mode global_batch --requested-by ci --json
"""
REPORT_EPILOG = """Example:

  jobmonitor report 3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42 -o runs/2026-01-31.md
"""


def preflight(
    workflow: Annotated[str, typer.Argument(help="The workflow's name (or id).")],
    waiting_after: Annotated[
        float,
        typer.Option(min=1, help="Seconds a pending job may wait before it counts as stuck."),
    ] = 300.0,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Before a run: snapshot, expected work, duplicate/rate check, stuck work, workers, failures."""
    api = client(url, token)
    with api, output.api_errors(), output.err.status("running checks"):
        report = api.preflight(workflow, waiting_after)
    if as_json:
        output.print_json(report)
    else:
        output.out.print(
            Text.assemble(
                ("pre-flight ", "dim"), (report["workflow"], "bold"), f" v{report['version']}"
            )
        )
        print_checks(report["checks"], "ready to run")
    raise typer.Exit(output.OK if report["ok"] else output.FAILED)


def history(
    workflow: Annotated[
        str | None, typer.Argument(help="Only this workflow's runs.", show_default=False)
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only runs created since: 24h, 7d, or 2026-01-31T08:00.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Only runs created before this.")] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Only these statuses; repeat it.")
    ] = None,
    mode: Annotated[str | None, typer.Option(help="global_batch or single_item.")] = None,
    requested_by: Annotated[
        str | None, typer.Option(help="Only runs whose requester contains this.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many runs.")] = 20,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """The run history, newest first: who ran what, in which mode, before, after and delta."""
    filters = {
        "workflow": workflow,
        "since": parse_since(since).isoformat() if since else None,
        "until": parse_since(until).isoformat() if until else None,
        "status": status or None,
        "mode": mode,
        "requested_by": requested_by,
        "limit": limit,
    }
    api = client(url, token)
    with api, output.api_errors():
        page = api.runs(**filters)
    if as_json:
        output.print_json(page)
        return
    if not page["items"]:
        output.err.print("no runs match")
        return
    output.out.print(_history_table(page["items"]))


def _history_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("created", "run", "workflow", "mode", "by", "status", "took", "steps", "delta"):
        table.add_column(name, overflow="fold" if name in ("delta", "by") else "ellipsis")
    for r in runs:
        table.add_row(
            output.when(r["created_at"]),
            r["id"][:8],
            f"{r['workflow_name']} #{r['execution_number']}",
            r["mode"] + (f" {r['item_id']}" if r.get("item_id") else ""),
            r.get("requested_by") or "",
            output.status_text(r["status"]),
            output.duration(r.get("duration_seconds")),
            f"{r['steps_completed']}/{r['step_count']}",
            delta_text(r.get("state_before"), r.get("state_after"), r.get("delta")),
        )
    return table


def report(
    job: JobId,
    out: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the Markdown to this file.")
    ] = None,
    url: Url = None,
    token: Token = None,
) -> None:
    """The run log (the cookbook's template) of one run, as Markdown, from the database."""
    ident = job_id(job)
    api = client(url, token)
    with api, output.api_errors():
        data = api.run_report(ident)
        note = (api.get_job(ident).get("metadata") or {}).get("note")
    text = render_report(data, note)
    if out is None:
        print(text, end="")
    else:
        out.write_text(text)
        output.err.print(f"wrote {out}")


def render_report(data: dict[str, Any], note: Any = None) -> str:
    run, attempts = data["run"], data["attempts"]
    started = output.parse_time(run.get("started_at") or run["created_at"])
    assert started is not None
    failed_attempts = sum(n for s, n in attempts.items() if s in ("failed", "timed_out", "lost"))
    lines = [
        f"# Workflow Run: {run['workflow_name']} #{run['execution_number']}",
        f"**Date**: {started.astimezone():%Y-%m-%d %H:%M}",
        f"**Duration**: {output.duration(run.get('duration_seconds'))}",
        f"**Operator**: {run.get('requested_by') or 'unknown'}",
        f"**Mode**: {run['mode']}" + (f" (item {run['item_id']})" if run.get("item_id") else ""),
        f"**Status**: {run['status']}",
        f"**Job**: {run['id']}",
        "",
        "## Before",
        *_items(run.get("state_before")),
        "",
        "## Expected",
        *_expected(run.get("expected_work")),
        "",
        "## After",
        *_after(run.get("state_after"), run.get("delta")),
        "",
        "## Steps",
        f"- Completed: {run['steps_completed']} of {run['step_count']}",
        f"- Failed: {run['steps_failed']}",
        "",
        "## Attempts",
        f"- Created: {sum(attempts.values())}",
        f"- Completed: {attempts.get('completed', 0)}",
        f"- Failed: {failed_attempts}",
        "",
        "## Issues",
        *_issues(data["issues"], run.get("error_message")),
        "",
        "## Notes",
        f"- {note}" if note else "- None",
    ]
    if len(run.get("segments") or []) > 1:
        lines += ["", "## Segments", *_segments(run["segments"])]
    return "\n".join(lines) + "\n"


def _items(state: Any) -> list[str]:
    if not isinstance(state, dict):
        return ["- (no snapshot)"]
    return [f"- {k}: {v}" for k, v in state.items()]


def _expected(expected: Any) -> list[str]:
    if not isinstance(expected, dict) or not expected:
        return ["- (no estimate)"]
    return [f"- Process ~{v} {k}" for k, v in expected.items()]


def _after(state: Any, delta: Any) -> list[str]:
    if not isinstance(state, dict):
        return ["- (no snapshot)"]
    delta = delta if isinstance(delta, dict) else {}
    return [
        f"- {k}: {v}" + (f" ({signed(delta[k])})" if k in delta else "") for k, v in state.items()
    ]


def _issues(issues: list[dict[str, Any]], error: str | None) -> list[str]:
    lines = [
        f"- {i['step_key']} attempt {i['attempt_number']} ({i['status']}): "
        f"{i.get('error_type') or 'error'}: {output.compact(i.get('error_message') or '', 200)}"
        for i in issues
    ]
    if error and not lines:
        lines.append(f"- {error}")
    return lines or ["- None"]


def _segments(segments: list[dict[str, Any]]) -> list[str]:
    return [
        f"- {n}. {output.when(s.get('started_at'))} -> {s.get('status', 'running')}: "
        + delta_text(s.get("state_before"), s.get("state_after"), s.get("delta"))
        for n, s in enumerate(segments, start=1)
    ]


def register(app: typer.Typer) -> None:
    app.command(epilog=PREFLIGHT_EPILOG)(preflight)
    app.command(epilog=HISTORY_EPILOG)(history)
    app.command(epilog=REPORT_EPILOG)(report)
