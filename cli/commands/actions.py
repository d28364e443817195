"""Operator actions on one job: `cancel` (the old runner's --stop), `resume`, `rerun`. Each is in the
audit log with the status before and after (`jobmonitor audit`)."""

from __future__ import annotations

from typing import Any

import typer
from rich.text import Text

from cli import output
from cli.commands.common import JobId, Json, Token, Url, client, job_id

ACTION_HINTS = {
    "cancel": {
        "invalid_transition": "it has already ended; `jobmonitor rerun {id}` starts it again"
    },
    "resume": {
        "invalid_transition": "only failed or cancelled jobs resume; `jobmonitor rerun {id}` starts a new job"
    },
    "rerun": {
        "invalid_transition": "cancel it first (`jobmonitor cancel {id}`), or wait for it to end",
        "rate_limited": "the workflow limits how often it starts; wait and retry",
    },
}


def _act(
    action: str, job: str, url: str | None, token: str | None, as_json: bool
) -> dict[str, Any]:
    ident = job_id(job)
    api = client(url, token)
    with api, output.api_errors({k: v.format(id=ident) for k, v in ACTION_HINTS[action].items()}):
        before = api.get_job(ident)["status"]
        after = api.job_action(ident, action)
    if as_json:
        output.print_json(after)
    elif action == "rerun":
        output.err.print(
            Text.assemble(
                f"rerun: job {ident} (",
                output.status_text(before),
                f") -> new job {after['id']} (",
                output.status_text(after["status"]),
                ")",
            )
        )
    else:
        output.err.print(
            Text.assemble(
                f"{action}: job {ident} ",
                output.status_text(before),
                " -> ",
                output.status_text(after["status"]),
            )
        )
    return after


def cancel(job: JobId, url: Url = None, token: Token = None, as_json: Json = False) -> None:
    """Cancel a pending or running job; running steps stop at their next heartbeat."""
    _act("cancel", job, url, token, as_json)


def resume(job: JobId, url: Url = None, token: Token = None, as_json: Json = False) -> None:
    """Run a failed or cancelled job again from where it stopped (completed steps are kept)."""
    after = _act("resume", job, url, token, as_json)
    if not as_json:
        output.err.print(Text(f"  follow it: jobmonitor watch {after['id']}", style="dim"))


def rerun(job: JobId, url: Url = None, token: Token = None, as_json: Json = False) -> None:
    """Start a new job with the same input and workflow version (linked by rerun_of)."""
    new = _act("rerun", job, url, token, as_json)
    if not as_json:
        output.err.print(Text(f"  follow it: jobmonitor watch {new['id']}", style="dim"))
        print(new["id"])


def register(app: typer.Typer) -> None:
    example = "Example: jobmonitor {} 3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42"
    app.command(epilog=example.format("cancel") + "   (the old runner's --stop)")(cancel)
    app.command(epilog=example.format("resume"))(resume)
    app.command(epilog=example.format("rerun") + " --json")(rerun)
