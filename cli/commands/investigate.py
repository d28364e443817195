"""Investigating runs: `compare A B` (two runs side by side, the first divergence), the
failure inbox (`failures`: list, show, ack, resolve, reopen, assign, note, rerun) and saved
views (`views`: list, save, delete). Search inside runs is `jobs --search`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from cli import output
from cli.commands.common import JobId, Json, Token, Url, client, job_id

Fingerprint = Annotated[
    str, typer.Argument(help="The group's fingerprint (`jobmonitor failures`).")
]


# --- compare ----------------------------------------------------------------------------------


def compare(
    a: JobId, b: JobId, url: Url = None, token: Token = None, as_json: Json = False
) -> None:
    """Compare run A with run B: input diff, each step side by side, the first divergence."""
    ids = job_id(a), job_id(b)
    api = client(url, token)
    with api, output.api_errors():
        result = api.compare(*ids)
    if as_json:
        output.print_json(result)
        return
    output.out.print(_diff_table("input", result["input_diff"]))
    output.out.print(_steps_table(result))
    for step in result["steps"]:
        if step["output_diff"]:
            output.out.print(_diff_table(f"output of {step['step_key']}", step["output_diff"]))
    style = "green" if result["first_divergence"] is None else "yellow"
    output.err.print(Text(result["summary"], style=style))


def _diff_table(title: str, changes: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{title}: {len(changes) or 'no'} difference(s)", box=box.SIMPLE_HEAD)
    for name in ("path", "change", "A", "B"):
        table.add_column(name, overflow="fold")
    for c in changes:
        table.add_row(
            c["path"], c["change"], output.compact(c["a"], 60), output.compact(c["b"], 60)
        )
    return table


def _steps_table(result: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="steps (A | B)")
    for name in ("step", "status", "attempts", "duration", "Δ", "cost", "Δ cost", "output"):
        table.add_column(name, no_wrap=True)
    for s in result["steps"]:
        a, b = s["a"] or {}, s["b"] or {}
        mark = "" if s["same"] else " ◀" if s["step_key"] == result["first_divergence"] else " *"
        table.add_row(
            s["step_key"] + mark,
            Text.assemble(_status(a), " | ", _status(b)),
            f"{a.get('attempts', '-')} | {b.get('attempts', '-')}",
            f"{output.duration(a.get('duration_seconds'))} | "
            f"{output.duration(b.get('duration_seconds'))}",
            _signed(s["duration_delta"], "s"),
            f"{output.cost(a.get('cost_usd'))} | {output.cost(b.get('cost_usd'))}",
            _signed(s["cost_delta"], "$"),
            {True: "equal", False: "differs", None: s["presence"].replace("_", " ")}[
                s["output_equal"]
            ],
        )
    return table


def _status(side: dict[str, Any]) -> Text:
    return output.status_text(side["status"]) if side else Text("-")


def _signed(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:+.2f}{unit}" if unit == "s" else f"{value:+.4f}"


# --- failures ---------------------------------------------------------------------------------

failures = typer.Typer(
    help="The failure inbox: failed runs grouped by workflow, step, error type and message.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@failures.callback()
def list_failures(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="open, acknowledged or resolved (default: all).")
    ] = None,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """List failure groups, the most recent first (`jobmonitor failures show FP` for one)."""
    if ctx.invoked_subcommand is not None:
        return
    api = client(url, token)
    with api, output.api_errors():
        result = api.failures(status)
    if as_json:
        output.print_json(result)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for name in (
        "fingerprint",
        "status",
        "workflow",
        "step",
        "error",
        "failures",
        "last seen",
        "7 days",
        "assignee",
    ):
        table.add_column(name, no_wrap=name != "error", overflow="fold")
    for g in result["items"]:
        status_label = "reopened" if g["reopened"] else g["status"]
        table.add_row(
            g["fingerprint"],
            status_label,
            g["workflow_name"],
            g["step_key"],
            output.compact(f"{g['error_type'] or ''}: {g['message']}", 60),
            str(g["count"]),
            output.when(g["last_seen"]),
            " ".join(str(n) for n in g["trend"]),
            g["assignee"] or "",
        )
    output.out.print(table)
    output.err.print(Text(f"{result['open']} open group(s)", style="dim"))


@failures.command("show", epilog="Example: jobmonitor failures show FINGERPRINT --json")
def show_failure(
    fingerprint: Fingerprint, url: Url = None, token: Token = None, as_json: Json = False
) -> None:
    """One group with its failed runs."""
    api = client(url, token)
    with api, output.api_errors():
        group = api.failure(fingerprint)
    if as_json:
        output.print_json(group)
        return
    output.out.print(_group_text(group))
    for o in group["occurrences"]:
        rerun = f"  re-run: {o['rerun_job_id']}" if o["rerun_job_id"] else ""
        output.out.print(
            f"  {o['job_id']}  {o['job_status']:<9} {output.when(o['failed_at'])}{rerun}"
        )


def _group_text(g: dict[str, Any]) -> str:
    lines = [
        f"{g['workflow_name']} / {g['step_key']}: {g['error_type'] or 'error'}: {g['message']}",
        f"status {'reopened' if g['reopened'] else g['status']}, {g['count']} failed run(s), "
        f"first {output.when(g['first_seen'])}, last {output.when(g['last_seen'])}",
    ]
    if g["assignee"]:
        lines.append(f"assigned to {g['assignee']}")
    if g["note"]:
        lines.append(f"note: {g['note']}")
    return "\n".join(lines)


def _update(
    fingerprint: str, changes: dict[str, Any], url: str | None, token: str | None, as_json: bool
) -> None:
    api = client(url, token)
    with api, output.api_errors():
        group = api.update_failure(fingerprint, changes)
    if as_json:
        output.print_json(group)
    else:
        output.out.print(_group_text(group))


def _state_command(state: str, doc: str) -> Callable[..., None]:
    def command(
        fingerprint: Fingerprint, url: Url = None, token: Token = None, as_json: Json = False
    ) -> None:
        _update(fingerprint, {"state": state}, url, token, as_json)

    command.__doc__ = doc
    return command


for _name, _state, _doc in (
    ("ack", "acknowledged", "Acknowledge a group (someone is on it)."),
    ("resolve", "resolved", "Resolve a group; a new failure of the kind reopens it."),
    ("reopen", "open", "Open a group again."),
):
    failures.command(_name, epilog=f"Example: jobmonitor failures {_name} FINGERPRINT")(
        _state_command(_state, _doc)
    )


@failures.command("assign", epilog="Example: jobmonitor failures assign FINGERPRINT alice")
def assign(
    fingerprint: Fingerprint,
    person: Annotated[
        str | None, typer.Argument(help="A token name; leave out to unassign.")
    ] = None,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Assign a group to a person (a token name)."""
    _update(fingerprint, {"assignee": person}, url, token, as_json)


@failures.command(
    "note", epilog='Example: jobmonitor failures note FINGERPRINT "upstream API flaps; fixed in v7"'
)
def note(
    fingerprint: Fingerprint,
    text: Annotated[str, typer.Argument(help="The note ('' clears it).")],
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Write a note on a group."""
    _update(fingerprint, {"note": text or None}, url, token, as_json)


@failures.command(
    "rerun", epilog="Example: jobmonitor failures rerun FINGERPRINT   (after registering the fix)"
)
def rerun_group(
    fingerprint: Fingerprint,
    same_version: Annotated[
        bool, typer.Option("--same-version", help="Run the failed version, not the latest.")
    ] = False,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Re-run every failed run of a group not re-run yet (by default on the latest version)."""
    api = client(url, token)
    with api, output.api_errors():
        result = api.rerun_failures(fingerprint, latest_version=not same_version)
    if as_json:
        output.print_json(result)
        return
    for r in result["results"]:
        outcome = r["new_job_id"] if r["ok"] else f"refused: {r['error']['message']}"
        output.out.print(f"{r['job_id']} -> {outcome}")
    output.err.print(f"re-ran {result['succeeded']}, refused {result['failed']}")
    if result["failed"]:
        raise typer.Exit(1)


# --- saved views ------------------------------------------------------------------------------

views = typer.Typer(help="Saved views: named searches (yours, or shared with the workspace).")


@views.command("list", epilog="Example: jobmonitor views list --json")
def list_views(url: Url = None, token: Token = None, as_json: Json = False) -> None:
    """Your saved views and the workspace's."""
    api = client(url, token)
    with api, output.api_errors():
        items = api.views()
    if as_json:
        output.print_json(items)
        return
    for v in items:
        owner = "workspace" if v["owner"] is None else v["owner"]
        output.out.print(f"{v['id']}  {v['name']:<24} {owner:<12} {v['query']}")


@views.command(
    "save",
    epilog="Example: jobmonitor views save 'slow fast runs' 'input.mode=fast duration>5m' --shared",
)
def save_view(
    name: Annotated[str, typer.Argument(help="The view's name.")],
    query: Annotated[str, typer.Argument(help="A search, as `jobs --search` takes it.")],
    shared: Annotated[bool, typer.Option("--shared", help="For the whole workspace.")] = False,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Save a search under a name."""
    api = client(url, token)
    with api, output.api_errors():
        view = api.save_view(name, query, shared)
    if as_json:
        output.print_json(view)
    else:
        print(view["id"])


@views.command("delete", epilog="Example: jobmonitor views delete VIEW_ID")
def delete_view(
    view: Annotated[str, typer.Argument(help="The view's id.")],
    url: Url = None,
    token: Token = None,
) -> None:
    """Delete one of your views (or, as an operator, a shared one)."""
    api = client(url, token)
    with api, output.api_errors():
        api.delete_view(view)
    output.err.print(f"deleted view {view}")


def register(app: typer.Typer) -> None:
    app.command(epilog="Example: jobmonitor compare JOB_A JOB_B --json")(compare)
    app.add_typer(failures, name="failures", epilog="Example: jobmonitor failures --status open")
    app.add_typer(
        views, name="views", epilog="Example: jobmonitor views save fast 'input.mode=fast'"
    )
