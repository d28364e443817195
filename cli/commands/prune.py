"""`jobmonitor prune`: retention of finished jobs with their steps, attempts, logs and events
(POST /api/v1/jobs/prune, admin). Audited as one `jobs.prune` entry."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from apiclient.sync import SyncClient
from backend.jobs.statuses import JobStatus
from cli import output
from cli.commands.common import Json, Token, Url, client

EPILOG = """Examples:

  jobmonitor prune --older-than 30d --dry-run

  jobmonitor prune --older-than 12h --status failed --status cancelled --yes

Ages: 90s, 45m, 12h, 30d, 2w. On a terminal it shows what would go and asks first (--yes skips).
"""


class Finished(StrEnum):
    """The statuses prune takes (`JOB_TERMINAL`, as a choice for --status)."""

    COMPLETED = JobStatus.COMPLETED
    FAILED = JobStatus.FAILED
    CANCELLED = JobStatus.CANCELLED


def prune(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help="Delete jobs finished longer ago than this: 30d, 12h...",
            show_default=False,
        ),
    ],
    status: Annotated[
        list[Finished] | None,
        typer.Option(
            "--status", help="Only these finished statuses; repeat it (default: all three)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation on a terminal.")
    ] = False,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Delete finished jobs older than --older-than, with everything they recorded."""
    statuses = [str(s) for s in status or []]
    api = client(url, token)
    with api, output.api_errors():
        if not dry_run and not yes and sys.stdin.isatty() and not as_json:
            _confirm(api, older_than, statuses)
        verb = "counting" if dry_run else "pruning"
        with output.err.status(f"{verb} jobs finished more than {older_than} ago (batches of 500)"):
            result = api.prune(older_than, statuses, dry_run)
    if as_json:
        output.print_json(result)
        return
    _print(result)


def _confirm(api: SyncClient, older_than: str, statuses: list[str]) -> None:
    with output.err.status("counting what would be deleted"):
        preview = api.prune(older_than, statuses, True)
    if not preview["counts"]["jobs"]:
        _print(preview)
        raise typer.Exit(output.OK)
    output.err.print(_counts(preview))
    if not typer.confirm(
        f"delete {preview['counts']['jobs']} job(s) and everything they recorded?", err=True
    ):
        output.err.print("nothing deleted")
        raise typer.Exit(output.OK)


def _print(result: dict[str, Any]) -> None:
    jobs = result["counts"]["jobs"]
    which = ", ".join(result["statuses"])
    if result["dry_run"]:
        head = f"dry run: would delete {jobs} job(s) ({which}) finished more than {result['older_than']} ago"
    else:
        head = f"deleted {jobs} job(s) ({which}) finished more than {result['older_than']} ago"
    output.err.print(Text(head, style="bold"))
    if not jobs:
        return
    output.out.print(_counts(result))
    for job_id in result["job_ids"]:
        output.out.print(job_id)
    if result.get("job_ids_truncated"):
        output.err.print(Text(f"... and {jobs - len(result['job_ids'])} more", style="dim"))


def _counts(result: dict[str, Any]) -> Table:
    table = Table("table", "rows", box=output.table_box(), pad_edge=False)
    for name, n in result["counts"].items():
        table.add_row(name, f"{n:,}")
    return table


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(prune)
