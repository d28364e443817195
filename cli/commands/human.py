"""Steps that wait for a person: `jobmonitor step execute` (run a waiting manual step with a
payload) and `jobmonitor review` (list a review gate's items with their decisions; approve,
reject, patch, submit)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from cli import output
from cli.commands.common import JobId, Json, Token, Url, client, job_id
from cli.commands.run import InputError, apply_sets, parse_set

step_app = typer.Typer(help="Steps that wait for a person (manual steps).", no_args_is_help=True)

EXECUTE_EPILOG = """Examples:

  jobmonitor step execute JOB proposals --set limit=50 --set provider=xai --idempotency-key p-001
  jobmonitor step execute JOB proposals --payload '{"limit": 20, "root_prefix": "notes/"}' --json

The payload is checked against the step's input schema (every problem with its path). The same
--idempotency-key with the same payload returns the first execution; another payload is refused.
Exit code: 0 when the step completed, 1 when it failed, 2 when it was refused.
"""

REVIEW_EPILOG = """Examples:

  jobmonitor review JOB                                   # items, decisions and counts
  jobmonitor review JOB --approve p_1,p_2 --reject p_3 --note "checked"
  jobmonitor review JOB --patch p_1 ontology.tags='["people"]'
  jobmonitor review JOB --submit --undecided reject

Decisions and patches are applied in that order, then --submit. Every change is audited.
"""


@step_app.command("execute", epilog=EXECUTE_EPILOG)
def execute(
    job: JobId,
    step: Annotated[str, typer.Argument(help="The manual step's key.", show_default=False)],
    payload: Annotated[
        str | None, typer.Option("--payload", help="The payload, a JSON object.")
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="KEY=VALUE merged over the payload (repeatable; a.b nests)."),
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="Replays return the first execution.")
    ] = None,
    wait: Annotated[
        float, typer.Option("--wait", min=0, max=300, help="Seconds to wait for the step.")
    ] = 30.0,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Execute a waiting manual step of JOB with a payload, and wait for its result."""
    ident, body = job_id(job), _payload(payload, sets or [])
    api = client(url, token)
    with api, output.api_errors():
        outcome, running = api.execute_step(ident, step, body, idempotency_key, wait)
    if as_json:
        output.print_json(outcome)
    else:
        _say_outcome(outcome, running)
    ok = outcome["success"] or running
    raise typer.Exit(output.OK if ok else output.FAILED)


def _payload(text: str | None, sets: list[str]) -> dict[str, Any]:
    try:
        base = json.loads(text) if text is not None else {}
    except json.JSONDecodeError as exc:
        output.fail(f"--payload is not valid JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(base, dict):
        output.fail('--payload must be a JSON object like {"limit": 50}')
    try:
        return apply_sets(base, sets)
    except InputError as exc:
        output.fail(str(exc))


def _say_outcome(outcome: dict[str, Any], running: bool) -> None:
    again = " (replay of an earlier execution with this key)" if outcome["replayed"] else ""
    head = f"step {outcome['step']} attempt {outcome['attempt']}{again}: "
    if running:
        output.out.print(Text.assemble(head, output.status_text(outcome["status"])))
        output.err.print(f"  still running; follow it: jobmonitor watch {outcome['job_id']}")
        return
    output.out.print(Text.assemble(head, output.status_text(outcome["status"])))
    result = outcome.get("result")
    if isinstance(result, dict) and result.get("summary"):
        output.out.print(f"  {result['summary']}")
    if outcome.get("error"):
        output.out.print(Text(f"  {outcome['error']}", style="red"))


def review(
    job: JobId,
    step: Annotated[
        str | None, typer.Option("--step", help="The gate's key (default: the open review).")
    ] = None,
    approve: Annotated[
        list[str] | None,
        typer.Option("--approve", help="Item ids to approve (repeatable, or comma-separated)."),
    ] = None,
    reject: Annotated[
        list[str] | None,
        typer.Option("--reject", help="Item ids to reject (repeatable, or comma-separated)."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note on these decisions.")] = None,
    patch: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--patch",
            help="ID FIELD=VALUE: change an editable field of an item (objects merge; a.b nests).",
        ),
    ] = None,
    submit: Annotated[bool, typer.Option("--submit", help="Submit the review.")] = False,
    undecided: Annotated[
        str, typer.Option("--undecided", help="At submit: refuse or reject undecided items.")
    ] = "refuse",
    search: Annotated[str | None, typer.Option("--search", help="Only matching items.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 100,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """List a review gate's items with their decisions; approve, reject, patch, submit."""
    ident = job_id(job)
    if undecided not in ("refuse", "reject"):
        output.fail(f"--undecided {undecided!r}: use refuse or reject")
    patches = _patches([patch] if patch else [])
    api = client(url, token)
    with api, output.api_errors():
        changes = [
            api.decide(ident, step, ids, decision, note)
            for decision, ids in (("approve", _ids(approve)), ("reject", _ids(reject)))
            if ids
        ]
        changes += [api.patch_review_item(ident, step, i, fields) for i, fields in patches]
        submitted = api.submit_review(ident, step, undecided) if submit else None
        page = api.review(ident, step, q=search, limit=limit)
    if as_json:
        output.print_json({**page, "changes": changes, "submitted": submitted is not None})
        return
    _say_changes(changes)
    output.out.print(_review_table(page))


def _ids(values: list[str] | None) -> list[str]:
    """Item ids from repeated options, each also a comma-separated list."""
    return [i for v in values or [] for i in v.replace(",", " ").split() if i]


def _patches(items: list[tuple[str, str]]) -> list[tuple[str, dict[str, Any]]]:
    """`--patch ID FIELD=VALUE`: the fields to change of each item."""
    found = []
    for item_id, assignment in items:
        try:
            path, value = parse_set(assignment.strip())
        except InputError as exc:
            output.fail(str(exc).replace("--set", "--patch"))
        fields: dict[str, Any] = {}
        node = fields
        for name in path[:-1]:
            node = node.setdefault(name, {})
        node[path[-1]] = value
        found.append((item_id, fields))
    return found


def _say_changes(changes: list[dict[str, Any]]) -> None:
    for change in changes:
        for r in change.get("results", []):
            verdict = f"{r['decision_before'] or 'undecided'} -> {r['decision_after']}"
            output.err.print(f"{r['id']}: {verdict if r['ok'] else r['error']}")
        if "item" in change:
            output.err.print(f"{change['item']['id']}: patched")


def _review_table(page: dict[str, Any]) -> Table:
    c = page["counts"]
    title = (
        f"review {page['step']} ({page['status']}, gate {page['step_status']}): "
        f"{c['approved']} approved, {c['rejected']} rejected, {c['undecided']} undecided"
    )
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for name in ("id", "decision", "item", "note"):
        table.add_column(name, overflow="fold" if name == "item" else "ellipsis")
    for i in page["items"]:
        text = i["item"].get("title") or output.compact(i["item"], 80)
        edited = " (edited)" if i["item"] != i["original"] else ""
        table.add_row(i["id"], i["decision"] or "undecided", f"{text}{edited}", i["note"] or "")
    return table


def register(app: typer.Typer) -> None:
    app.add_typer(step_app, name="step")
    app.command(epilog=REVIEW_EPILOG)(review)
