"""Reading jobs: `jobs` (the list; the old runner's `--list-running` is `jobs --status running`),
`show` (one job with its steps, attempts and run audit), `logs` and `export`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from apiclient.sync import SyncClient
from backend.jobs.statuses import JOB_TERMINAL, JobStatus
from cli import output
from cli.commands.common import JobId, Json, Token, Url, client, job_id

PAGE = 200  # the API's largest page
LOG_POLL_SECONDS = 1.0
LEVEL_STYLES = {"debug": "dim", "info": "", "warning": "yellow", "error": "bold red"}


# --- jobs -------------------------------------------------------------------------------------

JOBS_EPILOG = """Examples:

  jobmonitor jobs --status running            (the old runner's --list-running)

  jobmonitor jobs --status failed --status cancelled --workflow data_pipeline --limit 100

  jobmonitor jobs --json | jq -r '.[].id'

  jobmonitor jobs --search 'input.mode=fast input.records>100 error~timeout cost>0.5'
"""


def jobs(
    status: Annotated[
        list[JobStatus] | None,
        typer.Option("--status", "-s", help="Only these statuses; repeat it."),
    ] = None,
    workflow: Annotated[
        str | None, typer.Option("--workflow", help="Only this workflow's jobs (name or id).")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="At most this many jobs, newest first.")
    ] = 20,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            "-q",
            help="Search inside runs, as the web monitor's search box: input.mode=fast, "
            "input.records>100, metadata.operator=cli, 'output.rows exists', error~TEXT, "
            "error_type=T, failed_step=KEY, cost>=N, duration>90s, status=failed.",
        ),
    ] = None,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """List jobs, newest first (without their payloads)."""
    api = client(url, token)
    with api, output.api_errors():
        workflow_id = str(api.workflow(workflow)["id"]) if workflow else None
        items, total = _list(api, [s.value for s in status or []], workflow_id, limit, search)
    if as_json:
        output.print_json(items)
        return
    if not items:
        output.err.print("no jobs match")
        return
    table = Table(box=output.table_box(), pad_edge=False)
    for name in ("id", "workflow", "status", "steps", "created", "duration", "cost", "error"):
        table.add_column(
            name, no_wrap=name != "error", overflow="fold" if name == "error" else "ellipsis"
        )
    for j in items:
        table.add_row(
            j["id"],
            j["workflow_name"],
            output.status_text(j["status"]),
            f"{j['steps_done']}/{j['step_count']}",
            output.when(j["created_at"]),
            output.duration(j.get("duration_seconds")),
            output.cost(j.get("total_cost")),
            output.compact(j.get("error_message") or "", 50),
        )
    output.out.print(table)
    output.err.print(Text(f"{len(items)} of {total} job(s)", style="dim"))


def _list(
    api: SyncClient,
    statuses: list[str],
    workflow_id: str | None,
    limit: int,
    search: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    cursor, total = None, 0
    while len(items) < limit:
        page = api.list_jobs(statuses, workflow_id, min(PAGE, limit - len(items)), cursor, search)
        items += page["items"]
        cursor, total = page.get("next_cursor"), int(page.get("total", len(items)))
        if not cursor or not page["items"]:
            break
    return items, total


# --- show -------------------------------------------------------------------------------------


def show(job: JobId, url: Url = None, token: Token = None, as_json: Json = False) -> None:
    """One job: its fields, run audit (state before/after, delta), steps and every attempt."""
    ident = job_id(job)
    api = client(url, token)
    with api, output.api_errors():
        head = api.get_job(ident)
        steps = api.job_steps(ident)
        for s in steps:
            s["attempts"] = (
                api.step_attempts(ident, s["step_key"]) if s.get("attempt_number") else []
            )
    if as_json:
        output.print_json({**head, "steps": steps})
        return
    output.out.print(_fields(head))
    output.out.print(_audit(head))
    output.out.print(_steps(steps))
    attempts = _attempts(steps)
    if attempts.row_count:
        output.out.print(attempts)


def _fields(j: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    rows: list[tuple[str, Any]] = [
        ("job", Text(j["id"], style="bold")),
        (
            "workflow",
            f"{j['workflow_name']} v{j.get('workflow_version', '?')} (run #{j.get('execution_number', '?')})",
        ),
        ("status", output.status_text(j["status"])),
        ("steps", f"{j.get('steps_done', 0)}/{j.get('step_count', 0)} done"),
        ("created", output.when(j.get("created_at"))),
        ("started", output.when(j.get("started_at"))),
        ("finished", output.when(j.get("completed_at"))),
        ("duration", output.duration(j.get("duration_seconds"))),
        ("cost", output.cost(j.get("total_cost"))),
        ("input", output.compact(j.get("input_payload") or {}, 200)),
    ]
    if j.get("output_payload") is not None:
        rows.append(("output", output.compact(j["output_payload"], 200)))
    if j.get("error_message"):
        rows.append(("error", Text(j["error_message"], style="red")))
    if j.get("rerun_of"):
        rows.append(("re-run of", j["rerun_of"]))
    if j.get("idempotency_key"):
        rows.append(("idempotency key", j["idempotency_key"]))
    for name, value in rows:
        grid.add_row(name, value)
    return grid


def _audit(j: dict[str, Any]) -> Table | Text:
    """The run audit: every snapshot key with its value before, after, and the delta."""
    before, after, delta = (_flat(j.get(k)) for k in ("state_before", "state_after", "delta"))
    keys = list(dict.fromkeys([*before, *after, *delta]))
    if not keys:
        return Text(
            "run audit: no state snapshot (the workflow defines no `snapshot`)", style="dim"
        )
    table = Table(
        "state",
        "before",
        "after",
        "delta",
        title="run audit",
        title_justify="left",
        box=output.table_box(),
    )
    for key in keys:
        change = delta.get(key)
        style = (
            "green"
            if isinstance(change, int | float) and change > 0
            else ("red" if isinstance(change, int | float) and change < 0 else "")
        )
        shown = (
            f"{change:+g}"
            if isinstance(change, int | float) and not isinstance(change, bool)
            else _cell(change)
        )
        table.add_row(key, _cell(before.get(key)), _cell(after.get(key)), Text(shown, style=style))
    return table


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        return {} if value is None else {prefix or "value": value}
    flat: dict[str, Any] = {}
    for k, v in value.items():
        name = f"{prefix}.{k}" if prefix else str(k)
        flat.update(_flat(v, name) if isinstance(v, dict) else {name: v})
    return flat


def _cell(value: Any) -> str:
    return "" if value is None else output.compact(value, 40)


def _steps(steps: list[dict[str, Any]]) -> Table:
    table = Table(title="steps", title_justify="left", box=output.table_box(), pad_edge=False)
    for name in ("#", "step", "status", "attempts", "started", "duration", "cost", "error"):
        table.add_column(
            name, no_wrap=name != "error", overflow="fold" if name == "error" else "ellipsis"
        )
    for s in steps:
        table.add_row(
            str(s["step_index"]),
            s["step_key"],
            output.status_text(s["status"]),
            f"{s.get('attempt_number', 0)}/{s.get('max_attempts', '?')}",
            output.when(s.get("started_at")),
            output.duration(s.get("duration_seconds")),
            output.cost(s.get("cost_usd")),
            output.compact(s.get("error_message") or "", 80),
        )
    return table


def _attempts(steps: list[dict[str, Any]]) -> Table:
    table = Table(title="attempts", title_justify="left", box=output.table_box(), pad_edge=False)
    for name in ("step", "#", "status", "worker", "started", "duration", "cost", "error"):
        table.add_column(
            name, no_wrap=name != "error", overflow="fold" if name == "error" else "ellipsis"
        )
    for s in steps:
        for a in s["attempts"]:
            error = (
                f"{a['error_type']}: {a.get('error_message') or ''}" if a.get("error_type") else ""
            )
            table.add_row(
                s["step_key"],
                str(a["attempt_number"]),
                output.status_text(a["status"]),
                a.get("worker_name") or "",
                output.when(a.get("started_at")),
                output.duration(a.get("duration_seconds")),
                output.cost(a.get("cost_usd")),
                output.compact(error, 80),
            )
    return table


# --- logs -------------------------------------------------------------------------------------

LOGS_EPILOG = """Examples:

  jobmonitor logs 3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42 --step extract

  jobmonitor logs 3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42 --follow
"""


def logs(
    job: JobId,
    step: Annotated[
        str | None, typer.Option("--step", help="Only this step's lines (its key).")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until the job ends.")
    ] = False,
    url: Url = None,
    token: Token = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print the job's log lines, oldest first (all attempts of all steps, or one step's)."""
    ident = job_id(job)
    api = client(url, token)
    with api, output.api_errors():
        if step:
            _check_step(api, ident, step)
        try:
            _print_logs(api, ident, step, follow, as_json)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None


def _check_step(api: SyncClient, ident: str, step: str) -> None:
    keys = [s["step_key"] for s in api.job_steps(ident)]
    if step not in keys:
        output.fail(f"job {ident} has no step {step!r}", f"its steps: {', '.join(keys)}")


def _print_logs(api: SyncClient, ident: str, step: str | None, follow: bool, as_json: bool) -> None:
    cursor: str | None = None
    finished = not follow or api.get_job(ident)["status"] in JOB_TERMINAL
    while True:
        page = api.job_logs(ident, step, cursor)
        for line in page["items"]:
            output.print_json_line(line) if as_json else output.out.print(_log_line(line))
        cursor = page.get("next_cursor") or cursor
        if page.get("has_more"):
            continue
        if finished:  # the job had ended before this read: every line is in
            return
        time.sleep(LOG_POLL_SECONDS)
        finished = api.get_job(ident)["status"] in JOB_TERMINAL


def _log_line(line: dict[str, Any]) -> Text:
    level = str(line.get("level", "info"))
    where = f"{line.get('step_id')}#{line.get('attempt_number') or '?'}"
    return Text.assemble(
        (output.clock(line.get("created_at")), "dim"),
        "  ",
        (f"{where:<20}", "cyan"),
        " ",
        (f"{level.upper():<7}", LEVEL_STYLES.get(level, "")),
        " ",
        str(line.get("message", "")),
    )


# --- export -----------------------------------------------------------------------------------


def export(
    job: JobId,
    to: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
    url: Url = None,
    token: Token = None,
) -> None:
    """Everything recorded about the job as one JSON document, secrets redacted."""
    ident = job_id(job)
    api = client(url, token)
    with api, output.api_errors(), output.err.status(f"exporting job {ident}"):
        data = api.export_job(ident)
    if to is None:
        output.out.file.write(data.decode())
        return
    try:
        to.write_bytes(data)
    except OSError as exc:
        output.fail(f"cannot write {to}: {exc.strerror or exc}")
    output.err.print(f"wrote {len(data):,} bytes to {to}")


def register(app: typer.Typer) -> None:
    app.command(epilog=JOBS_EPILOG)(jobs)
    app.command(epilog="Example: jobmonitor show 3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42 --json")(show)
    app.command(epilog=LOGS_EPILOG)(logs)
    app.command(
        epilog="Example: jobmonitor export 3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42 -o job.json"
    )(export)
