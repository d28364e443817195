"""`jobmonitor audit`: who did what to which object, with the status before and after
(GET /api/v1/audit, admin). The audit trail of operator actions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from apiclient.sync import SyncClient
from cli import output
from cli.commands.common import Json, Token, Url, client

PAGE = 200
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
EPILOG = """Examples:

  jobmonitor audit --since 24h

  jobmonitor audit --since 2026-01-31T08:00 --action job.cancel --json

  jobmonitor audit --target 3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42
"""


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """'24h', '7d', '90m', '2w' (ago) or an ISO date/time (local time unless it has an offset)."""
    value = text.strip()
    match = re.fullmatch(r"(\d+)\s*([smhdw])", value.lower())
    if match:
        return (now or datetime.now(UTC)) - timedelta(**{UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        output.fail(
            f"invalid --since {text!r}",
            "give an age like 90m, 24h, 7d, 2w, or a date/time like 2026-01-31T08:00",
        )
    return moment if moment.tzinfo else moment.astimezone()


def audit(
    since: Annotated[
        str | None, typer.Option(help="Only entries newer than this: 24h, 7d, or 2026-01-31T08:00.")
    ] = None,
    action: Annotated[
        str | None,
        typer.Option(help="Only this action, e.g. job.cancel, token.create, jobs.prune."),
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Only entries about this object id (a job, token, workflow).")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor, as listed.")] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="At most this many entries, newest first.")
    ] = 50,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """The audit log, newest first: actor, action, target, status before and after, time."""
    cutoff = parse_since(since) if since else None
    api = client(url, token)
    with api, output.api_errors():
        items = _read(api, action, target, actor, limit, cutoff)
    if as_json:
        output.print_json(items)
        return
    if not items:
        output.err.print("no audit entries match")
        return
    table = Table(box=output.table_box(), pad_edge=False)
    for name in ("time", "actor", "action", "target", "status", "data"):
        table.add_column(
            name,
            no_wrap=name in ("time", "action", "status"),
            overflow="fold",
            min_width=20 if name == "data" else None,
        )
    for e in items:
        change = _change(e.get("status_before"), e.get("status_after"))
        table.add_row(
            output.when(e["created_at"]),
            e["actor"],
            e["action"],
            f"{e['target_type']} {e.get('target_id') or ''}".strip(),
            change,
            output.compact(e.get("data") or "", 80),
        )
    output.out.print(table)


def _change(before: str | None, after: str | None) -> Text:
    if not before and not after:
        return Text("")
    parts = [output.status_text(before), Text(" -> ")] if before else [Text("-> ")]
    return Text.assemble(
        *parts, output.status_text(after) if after else Text("(deleted)", style="dim")
    )


def _read(
    api: SyncClient,
    action: str | None,
    target: str | None,
    actor: str | None,
    limit: int,
    cutoff: datetime | None,
) -> list[dict[str, Any]]:
    """Pages newest first until `limit` entries or one older than `cutoff`."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(items) < limit:
        page = api.audit(action, target, actor, cursor, min(PAGE, limit - len(items)))
        for entry in page["items"]:
            created = output.parse_time(entry["created_at"])
            if cutoff is not None and created is not None and created < cutoff:
                return items
            items.append(entry)
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return items


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(audit)
