"""`jobmonitor run` (start a job, optionally watch it live) and `jobmonitor watch` (the status
watcher: one line per status transition of the job and its steps)."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from apiclient.sync import SyncClient
from backend.jobs.statuses import JobStatus, StepStatus
from cli import output
from cli.commands import runner
from cli.commands.common import JobId, Json, Token, Url, client, job_id
from cli.follow import Ended, JobFeed, Notice, Transition

SET_FORM = (
    'expected KEY=VALUE, e.g. --set records=100 --set options.mode=fast --set \'tags=["a","b"]\' '
    "(VALUE is read as JSON when it parses, else as text; dots in KEY build nested objects)"
)
RUN_HINTS = {
    "concurrency_limited": "see them with `jobmonitor run --list-running`; stop one with "
    "`jobmonitor run --stop --workflow-run-id RUN`; --force cancels them and starts this job",
    "rate_limited": "wait, or pass --force to start now",
    "budget_exhausted": "wait for the budget to reset, or pass --force to start anyway (operator)",
    "idempotency_conflict": "use a new --idempotency-key, or send the same input as the first request",
    "invalid_input": "the input must match the workflow's input schema: `jobmonitor workflows show NAME`",
}
REFRESH_GAP = 0.3  # at most ~3 step fetches a second while events pour in
REFRESH_EVERY = 1.0  # durations and progress (no event carries them) while the job runs

RUN_EPILOG = """Examples:

  jobmonitor run data_pipeline --set records=500 --set options.mode=fast --watch

  jobmonitor run basic_sequence --input '{"records": 20}' --idempotency-key nightly-2026-01-31

  jobmonitor run memory_first_v2 --input-file input.json --force --json

  jobmonitor run data_pipeline --background

  jobmonitor run my_flow --mode single_item --item-id 4920

  jobmonitor run data_pipeline --mode single_run --workflow-run-id 12

  jobmonitor run --list-running

  jobmonitor run --stop --workflow-run-id 3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42
"""


class InputError(Exception):
    """The job input given on the command line cannot be used (exit 2)."""


# --- input ------------------------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """JSON when it parses (numbers, true/false, null, lists, objects, "quoted"), else the text.
    NaN and Infinity stay text: they are not JSON."""

    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError:
        return text


def parse_set(item: str) -> tuple[list[str], Any]:
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(f"invalid --set {item!r}: {SET_FORM}")
    path = key.split(".")
    if not all(path):
        raise InputError(f"invalid --set {item!r}: an empty name in the key {key!r}; {SET_FORM}")
    return path, parse_value(value)


def apply_sets(payload: dict[str, Any], items: list[str]) -> dict[str, Any]:
    """`payload` with every --set applied in order (later ones win)."""
    for item in items:
        path, value = parse_set(item)
        node = payload
        for depth, name in enumerate(path[:-1], start=1):
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                where = ".".join(path[:depth])
                raise InputError(
                    f"invalid --set {item!r}: {where} is {output.compact(child, 40)}, not an object"
                )
            node = child
        node[path[-1]] = value
    return payload


def load_input(inline: str | None, file: Path | None) -> dict[str, Any]:
    if inline is not None and file is not None:
        raise InputError(
            "--input and --input-file cannot be used together: give the JSON inline or in a file"
        )
    if file is not None:
        text, name = _read(file), str(file)
    elif inline is not None:
        text, name = inline, "--input"
    else:
        return {}
    try:
        data = yaml.safe_load(text) if name.endswith((".yaml", ".yml")) else json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"{name} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise InputError(
            f'{name} must be a JSON object like {{"records": 100}}, not {type(data).__name__}'
        )
    return data


def _read(file: Path) -> str:
    try:
        return sys.stdin.read() if str(file) == "-" else file.read_text()
    except OSError as exc:
        raise InputError(f"cannot read --input-file {file}: {exc.strerror or exc}") from None


def build_input(inline: str | None, file: Path | None, sets: list[str]) -> dict[str, Any]:
    try:
        return apply_sets(load_input(inline, file), sets)
    except InputError as exc:
        output.fail(str(exc))


# --- run --------------------------------------------------------------------------------------


def run(
    workflow: Annotated[
        str | None,
        typer.Argument(
            help="The workflow's name (or id); not needed with --list-running or --stop.",
            show_default=False,
        ),
    ] = None,
    input_json: Annotated[
        str | None,
        typer.Option("--input", metavar="JSON", help="The job's input as a JSON object."),
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input-file",
            metavar="FILE",
            help="Read the input from a JSON (or .yaml) file; - is stdin.",
        ),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="KEY=VALUE merged over the input; repeat it. VALUE is JSON or text.",
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(help="Run at most once per key: the same key and input return the same job."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Start even over the workflow's concurrency policy (cancels active jobs).",
        ),
    ] = False,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Show live progress; exit 0 or 1 by the outcome.")
    ] = False,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            metavar="MODE",
            help="global_batch (everything pending; duplicate detection and rate limit apply), "
            "single_item (one item: --item-id) or single_run (resume --workflow-run-id). "
            "single_posting is single_item.",
        ),
    ] = "global_batch",
    item_id: Annotated[
        str | None,
        typer.Option(
            "--item-id",
            "--posting-id",
            metavar="ID",
            help="The item of a single_item run (steps read ctx.item_id).",
        ),
    ] = None,
    workflow_run_id: Annotated[
        str | None,
        typer.Option(
            "--workflow-run-id",
            metavar="ID",
            help="A run: its job id, or its number with WORKFLOW (single_run, --stop).",
        ),
    ] = None,
    list_running: Annotated[
        bool, typer.Option("--list-running", help="List pending and running runs, then exit.")
    ] = False,
    stop: Annotated[
        bool, typer.Option("--stop", help="Stop (cancel) the run --workflow-run-id.")
    ] = False,
    background: Annotated[
        bool,
        typer.Option(
            "--background",
            help="Start, then follow the run into logs/workflow_<name>_<time>.log from a "
            "detached process; prints the job id, the log path and how to monitor and stop it.",
        ),
    ] = False,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Start a job of WORKFLOW. With --watch, follow it to the end."""
    chosen = runner.parse_mode(mode)
    payload = build_input(input_json, input_file, sets or [])
    api = client(url, token)
    with api, output.api_errors(RUN_HINTS):
        if list_running or stop:
            _operate(api, workflow, workflow_run_id, list_running, as_json)
            return
        if workflow is None:
            output.fail("missing WORKFLOW", "jobmonitor run WORKFLOW, or --list-running / --stop")
        job, replayed = _start(
            api, workflow, chosen, item_id, workflow_run_id, payload, idempotency_key, force
        )
        if background:
            runner.launch(api, url, token, job)
        elif not as_json:
            _started(job, replayed, watch)
        if watch:
            raise typer.Exit(_follow_live(api, job, as_json))
    if as_json and not background:
        output.print_json(job)


def _operate(
    api: SyncClient, workflow: str | None, run_ref: str | None, listing: bool, as_json: bool
) -> None:
    if listing:
        runner.list_running(api, workflow, as_json)
        return
    if run_ref is None:
        output.fail("--stop needs --workflow-run-id", "jobmonitor run --list-running shows them")
    runner.stop(api, runner.resolve_run(api, workflow, run_ref), as_json)


def _start(
    api: SyncClient,
    workflow: str,
    mode: str,
    item_id: str | None,
    run_ref: str | None,
    payload: dict[str, Any],
    idempotency_key: str | None,
    force: bool,
) -> tuple[dict[str, Any], bool]:
    if mode == "single_run":
        if run_ref is None:
            output.fail("--mode single_run needs --workflow-run-id", "the run to resume")
        return runner.resume(api, workflow, runner.resolve_run(api, workflow, run_ref)), False
    if run_ref is not None:
        output.fail("--workflow-run-id goes with --mode single_run or --stop")
    if (mode == "single_item") != (item_id is not None):
        output.fail("--item-id goes with --mode single_item, and single_item needs --item-id")
    return api.create_job(workflow, payload, idempotency_key, force, mode, item_id)


def _started(job: dict[str, Any], replayed: bool, watch: bool) -> None:
    what = f"{job['workflow_name']} v{job.get('workflow_version', '?')}"
    if replayed:
        output.err.print(
            f"idempotency key {job.get('idempotency_key')!r} was used before: job {job['id']} ({what}) "
            f"is [bold]{job['status']}[/bold]; nothing new started"
        )
    else:
        output.err.print(f"started job {job['id']} ({what}), {job['status']}")
    if not watch:
        output.err.print(Text(f"  follow it: jobmonitor watch {job['id']}", style="dim"))
        print(job["id"])


def _follow_live(api: SyncClient, job: dict[str, Any], as_json: bool) -> int:
    """Follow the job to its end (a live step table unless --json); the exit code."""
    steps: list[dict[str, Any]] = []
    live = (
        None if as_json else Live(render_job(job, steps), console=output.out, refresh_per_second=8)
    )
    try:
        with JobFeed(api, job["id"]) as feed, live or contextlib.nullcontext():
            job, steps = _live_loop(api, feed, live, job)
    except KeyboardInterrupt:
        output.err.print(f"stopped watching; the job goes on: jobmonitor watch {job['id']}")
        return 130
    if as_json:
        output.print_json({**job, "steps": steps})
    else:
        if not output.out.is_terminal:
            output.out.line()  # rich ends a live display with a newline only on terminals
        _summary(job)
    return output.OK if job["status"] == JobStatus.COMPLETED else output.FAILED


def _live_loop(
    api: SyncClient, feed: JobFeed, live: Live | None, job: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    steps: list[dict[str, Any]] = []
    last, dirty = 0.0, True
    while True:
        ended: Ended | None = None
        for item in feed.get(0.2):
            if isinstance(item, Exception):
                raise item
            if isinstance(item, Notice) and live is not None:
                live.console.print(Text(item.message, style="yellow"))
            dirty = dirty or isinstance(item, Transition)
            ended = item if isinstance(item, Ended) else ended
        now = time.monotonic()
        if (
            ended is not None
            or (dirty and now - last >= REFRESH_GAP)
            or now - last >= REFRESH_EVERY
        ):
            job = ended.job if ended is not None else api.get_job(job["id"])
            steps, last, dirty = api.job_steps(job["id"]), now, False
            if live is not None:
                live.update(render_job(job, steps))
        if ended is not None:
            return job, steps


def render_job(job: dict[str, Any], steps: list[dict[str, Any]]) -> RenderableType:
    """The live view: a header line and one row per step."""
    header = Text.assemble(
        ("job ", "dim"),
        job["id"],
        "  ",
        (job["workflow_name"], "bold"),
        f" v{job.get('workflow_version', '?')}  ",
        output.status_text(job["status"]),
        f"  {output.duration(job.get('duration_seconds'))}",
        f"  {output.cost(job.get('total_cost'))}",
    )
    table = Table(box=output.table_box(), pad_edge=False)
    for name in ("step", "status", "attempts", "duration", "progress", "cost", "error"):
        table.add_column(
            name, overflow="fold" if name == "error" else "ellipsis", no_wrap=name != "error"
        )
    for s in steps:
        attempts = f"{s.get('attempt_number', 0)}/{s.get('max_attempts', '?')}"
        table.add_row(
            s["step_key"],
            output.status_text(s["status"]),
            attempts,
            output.duration(s.get("duration_seconds")),
            output.progress_bar(s.get("progress")),
            output.cost(s.get("cost_usd")),
            output.compact(s.get("error_message") or "", 60),
        )
    return Group(header, table) if steps else header


def _summary(job: dict[str, Any]) -> None:
    took, spent = output.duration(job.get("duration_seconds")), output.cost(job.get("total_cost"))
    if job["status"] == JobStatus.COMPLETED:
        output.out.print(
            Text.assemble(("completed", "green"), f": job {job['id']} in {took}, cost {spent}")
        )
        return
    output.out.print(
        Text.assemble(output.status_text(job["status"]), f": job {job['id']} after {took}")
    )
    if job.get("error_message"):
        output.out.print(Text(f"  {job['error_message']}", style="red"))
    output.err.print(
        Text(
            f"  details: jobmonitor show {job['id']}   logs: jobmonitor logs {job['id']}   "
            f"run the rest again: jobmonitor resume {job['id']}",
            style="dim",
        )
    )


# --- watch ------------------------------------------------------------------------------------

WATCH_EPILOG = """Example:

  jobmonitor watch 3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42

  14:02:11.031  job                     pending -> running
  14:02:11.040  step extract            pending -> queued      attempt 1
  14:02:11.052  step extract            queued -> running      on host.4242.a1b2c3
  14:02:12.410  step extract            running -> completed   1.4s

Exit code: 0 when the job completed, 1 when it failed or was cancelled.
"""


Interval = Annotated[
    float | None,
    typer.Option(
        "--interval",
        min=0.2,
        max=3600,
        help="Seconds between polls when the event stream cannot be used (default 2).",
    ),
]


def watch(
    job: JobId,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
    interval: Interval = None,
) -> None:
    """Print one line per status transition of the job and its steps until the job ends."""
    raise typer.Exit(watch_job(job, url, token, as_json, interval))


def watch_job(
    job: str, url: str | None, token: str | None, as_json: bool, interval: float | None = None
) -> int:
    """`jobmonitor watch` (and tools/workflow_watch.py): the exit code once the job ends."""
    ident = job_id(job)
    api = client(url, token)
    with api, output.api_errors():
        head = api.get_job(ident)
        if not as_json:
            output.err.print(
                Text(
                    f"watching job {ident} ({head['workflow_name']}, {head['status']}); "
                    "Ctrl-C stops watching, not the job",
                    style="dim",
                )
            )
        try:
            code = _print_transitions(api, ident, as_json, interval)
        except KeyboardInterrupt:
            code = 130
    return code


def _print_transitions(api: SyncClient, ident: str, as_json: bool, interval: float | None) -> int:
    with JobFeed(api, ident, poll_seconds=interval) as feed:
        for item in feed:
            if isinstance(item, Notice):
                output.err.print(Text(item.message, style="yellow"))
            elif isinstance(item, Transition):
                output.print_json_line(item.as_json()) if as_json else output.out.print(
                    transition_line(item)
                )
            elif isinstance(item, Ended):
                return output.OK if item.job["status"] == JobStatus.COMPLETED else output.FAILED
    return output.FAILED


def transition_line(t: Transition) -> Text:
    label = "job" if t.kind == "job" else f"{t.kind} {t.step_key}"
    change = Text.assemble(
        (t.from_status or "", "dim"),
        " -> " if t.from_status else "-> ",
        output.status_text(t.to_status),
    )
    change.pad_right(max(0, 22 - len(change.plain)))
    return Text.assemble((output.clock(t.at), "dim"), "  ", f"{label:<23} ", change, " ", _extra(t))


def _extra(t: Transition) -> str:
    d = t.data
    parts = []
    if t.to_status in (StepStatus.QUEUED, StepStatus.RUNNING) and d.get("attempt"):
        parts.append(f"attempt {d['attempt']}")
    if t.to_status == StepStatus.RUNNING and d.get("worker"):
        parts.append(f"on {d['worker']}")
    if t.to_status == StepStatus.COMPLETED and d.get("duration_seconds") is not None:
        parts.append(output.duration(d["duration_seconds"]))
    if d.get("error"):
        parts.append(output.compact(d["error"], 100))
    if d.get("retry_in_seconds") is not None:
        parts.append(f"retry in {d['retry_in_seconds']:g} s")
    if d.get("reason") and t.to_status in (StepStatus.SKIPPED, StepStatus.CANCELLED):
        parts.append(str(d["reason"]))
    if t.to_status == StepStatus.WAITING:
        parts.append("for a review" if d.get("run") == "review" else "for a person to execute it")
    return "  ".join(parts)


def register(app: typer.Typer) -> None:
    app.command(epilog=RUN_EPILOG)(run)
    app.command(epilog=WATCH_EPILOG)(watch)
    runner.register(app)
