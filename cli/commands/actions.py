"""Operator actions on one job: `cancel` (the old runner's --stop), `resume`, `rerun`. Each is in the
audit log with the status before and after (`jobmonitor audit`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from cli import output
from cli.commands.common import JobId, Json, Token, Url, client, job_id
from cli.commands.run import InputError, apply_sets

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


def rerun(
    job: JobId,
    from_step: Annotated[
        str | None,
        typer.Option(
            "--from", help="Run this step and what depends on it; reuse the other steps' outputs."
        ),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Change the input: KEY=VALUE (dotted keys nest; =null removes a key)."
        ),
    ] = None,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Start a new job with the same input and workflow version (linked by rerun_of); with
    --from STEP the steps before it are reused, not run again; --set patches the input."""
    if from_step is None and not sets:
        new = _act("rerun", job, url, token, as_json)
    else:
        new = _rerun_from(job, from_step, sets or [], url, token, as_json)
    if not as_json:
        output.err.print(Text(f"  follow it: jobmonitor watch {new['id']}", style="dim"))
        print(new["id"])


def _rerun_from(
    job: str,
    from_step: str | None,
    sets: list[str],
    url: str | None,
    token: str | None,
    as_json: bool,
) -> dict[str, Any]:
    ident = job_id(job)
    try:
        patch = apply_sets({}, sets)
    except InputError as exc:
        output.fail(str(exc))
    body: dict[str, Any] = {"from_step": from_step, "input_patch": patch or None}
    api = client(url, token)
    with api, output.api_errors({k: v.format(id=ident) for k, v in ACTION_HINTS["rerun"].items()}):
        new = api.rerun(ident, {k: v for k, v in body.items() if v is not None})
        steps = [] if as_json else api.job_steps(new["id"])
    if as_json:
        output.print_json(new)
        return new
    start = f" from step {from_step}" if from_step else ""
    output.err.print(f"rerun: job {ident} -> new job {new['id']}{start}")
    reused = [s["step_key"] for s in steps if s.get("reused_from_job_id")]
    if reused:
        output.err.print(Text(f"  reused, not run again: {', '.join(reused)}", style="dim"))
    return new


def register(app: typer.Typer) -> None:
    example = "Example: jobmonitor {} 3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42"
    app.command(epilog=example.format("cancel") + "   (the old runner's --stop)")(cancel)
    app.command(epilog=example.format("resume"))(resume)
    app.command(
        epilog=example.format("rerun")
        + " --json\n\nFrom a step with a changed input: jobmonitor rerun JOB --from transform"
        " --set records=50 --set options.mode=fast"
    )(rerun)
