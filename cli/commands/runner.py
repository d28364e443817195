"""The seed runner's flags of `jobmonitor run`: `--list-running`, `--stop --workflow-run-id`,
`--mode single_run` (resume a run), `--background` (a detached follower writing a log file),
and the hidden `follow-log` command that follower runs."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from apiclient.sync import SyncClient
from cli import background, output
from cli.client import resolve
from cli.commands.common import JobId, Token, Url, client, job_id

MODES = ("global_batch", "single_item", "single_run")
ALIASES = {"single_posting": "single_item"}


def parse_mode(value: str) -> str:
    mode = ALIASES.get(value, value)
    if mode not in MODES:
        output.fail(
            f"invalid --mode {value!r}",
            "use global_batch (everything pending), single_item (one item: --item-id) or "
            "single_run (resume a run: --workflow-run-id); single_posting is single_item",
        )
    return mode


def resolve_run(api: SyncClient, workflow: str | None, ref: str) -> str:
    """A run's job id from --workflow-run-id: a job id, or the workflow's execution number."""
    try:
        return str(uuid.UUID(ref.strip()))
    except ValueError:
        pass
    if not ref.strip().isdigit():
        output.fail(
            f"invalid --workflow-run-id {ref!r}",
            "give a job id (UUID), or a run number (with the workflow when several have it): "
            "jobmonitor run WORKFLOW --stop --workflow-run-id 12",
        )
    found = api.runs(workflow=workflow, execution_number=int(ref), limit=10)["items"]
    if not found:
        output.fail(
            f"no run number {ref}{f' of {workflow}' if workflow else ''}",
            "see `jobmonitor history`",
        )
    if len(found) > 1:
        names = ", ".join(f"{r['workflow_name']} #{ref}" for r in found)
        output.fail(
            f"run number {ref} is ambiguous: {names}", "name the workflow, or give the job id"
        )
    return str(found[0]["id"])


def list_running(api: SyncClient, workflow: str | None, as_json: bool) -> None:
    page = api.runs(workflow=workflow, status=["pending", "running"], limit=200)
    if as_json:
        output.print_json(page["items"])
        return
    if not page["items"]:
        output.err.print(f"nothing running{f' for {workflow}' if workflow else ''}")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("run", "workflow", "#", "mode", "item", "status", "steps", "running for"):
        table.add_column(name, no_wrap=True, min_width=36 if name == "run" else None)
    table.add_column("by", overflow="fold", max_width=40)
    for r in page["items"]:
        table.add_row(
            r["id"],
            r["workflow_name"],
            str(r["execution_number"]),
            r["mode"],
            r.get("item_id") or "",
            output.status_text(r["status"]),
            f"{r['steps_completed']}/{r['step_count']}",
            output.duration(r.get("duration_seconds")),
            r.get("requested_by") or "",
        )
    output.out.print(table)
    output.err.print(Text("stop one: jobmonitor run --stop --workflow-run-id RUN", style="dim"))


def stop(api: SyncClient, ident: str, as_json: bool) -> None:
    before = api.get_job(ident)["status"]
    job = api.job_action(ident, "cancel")
    if as_json:
        output.print_json(job)
        return
    output.err.print(f"stopped job {ident} ({job['workflow_name']}): {before} -> {job['status']}")


def resume(api: SyncClient, workflow: str, ident: str) -> dict[str, Any]:
    """single_run: resume the given run of WORKFLOW (it must be failed or cancelled)."""
    job = api.get_job(ident)
    if workflow not in (job["workflow_name"], str(job["workflow_id"])):
        output.fail(
            f"job {ident} is a run of {job['workflow_name']}, not of {workflow}",
            f"jobmonitor run {job['workflow_name']} --mode single_run --workflow-run-id {ident}",
        )
    return api.job_action(ident, "resume")


def launch(api: SyncClient, url: str | None, token: str | None, job: dict[str, Any]) -> None:
    """Start the follower and say where its log is and how to monitor and stop the run."""
    target = resolve(url, token)
    path = background.log_path(job["workflow_name"])
    pid = background.spawn_follower(target.url, target.token or "", job["id"], path)
    say = output.err.print
    say(f"started job {job['id']} ({job['workflow_name']}) in the background: {job['status']}")
    say(f"log file: {path}   (written by follower pid {pid}; the job runs on the workers)")
    say("monitor:")
    say(f"  tail -f {path}")
    say(f"  jobmonitor watch {job['id']}")
    say("  jobmonitor run --list-running")
    say("stop:")
    say(f"  jobmonitor run --stop --workflow-run-id {job['id']}")
    print(job["id"])


def follow_log(
    job: JobId,
    log: Annotated[Path, typer.Option("--log", help="The file to append to.")],
    url: Url = None,
    token: Token = None,
) -> None:
    """Append the job's transitions and log lines to a file until it ends (run --background)."""
    ident = job_id(job)
    api = client(url, token)
    with api, output.api_errors(), open(log, "a") as sink:
        raise typer.Exit(background.follow_to_file(api, ident, sink))


FOLLOW_EPILOG = """Example (what `jobmonitor run --background` starts, detached):

  jobmonitor follow-log 3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42 --log logs/workflow_x_20260131_143522.log
"""


def register(app: typer.Typer) -> None:
    app.command("follow-log", hidden=True, epilog=FOLLOW_EPILOG)(follow_log)
