"""`jobmonitor schedule add|list|pause|resume|delete|next`: a workflow's schedules (cron or an
interval), through the REST API. `jobmonitor scheduler` (server side) fires them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from cli import output
from cli.commands.common import Json, Token, Url, client
from cli.commands.run import build_input

app = typer.Typer(
    help="Schedules of workflows: cron expressions or intervals, fired by `jobmonitor scheduler`.",
    epilog="""Examples:

  jobmonitor schedule add data_pipeline --name nightly --cron "0 2 * * *" --timezone Europe/Berlin

  jobmonitor schedule add basic_sequence --name often --every 15m --set records=20 --overlap queue_one

  jobmonitor schedule list --workflow data_pipeline

  jobmonitor schedule next SCHEDULE_ID --count 5

  jobmonitor schedule pause SCHEDULE_ID ; jobmonitor schedule resume SCHEDULE_ID
""",
    no_args_is_help=True,
)
ScheduleId = Annotated[
    str, typer.Argument(help="The schedule's id (`jobmonitor schedule list`).", show_default=False)
]
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """`90`, `90s`, `15m`, `2h`, `1d` as seconds; exit 2 with the expected form otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match:
        output.fail(f"not an interval: {text!r}", "use seconds or a unit: 90, 90s, 15m, 2h, 1d")
    return float(match.group(1)) * UNITS[match.group(2) or "s"]


@app.command(
    epilog='Example: jobmonitor schedule add data_pipeline --name nightly --cron "0 2 * * *"'
)
def add(
    workflow: Annotated[
        str, typer.Argument(help="The workflow's name (or id).", show_default=False)
    ],
    name: Annotated[str, typer.Option(help="A name, unique per workflow.")],
    cron: Annotated[
        str | None, typer.Option(help='Cron expression, e.g. "0 2 * * *" (6th field: seconds).')
    ] = None,
    every: Annotated[
        str | None, typer.Option(help="Or an interval: 90s, 15m, 2h, 1d.", show_default=False)
    ] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone of the cron expression.")] = "UTC",
    input_json: Annotated[
        str | None, typer.Option("--input", metavar="JSON", help="The jobs' input (JSON object).")
    ] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input-file", metavar="FILE", help="Input from a file.")
    ] = None,
    sets: Annotated[
        list[str] | None, typer.Option("--set", metavar="KEY=VALUE", help="Merged over the input.")
    ] = None,
    overlap: Annotated[
        str, typer.Option(help="While its last job runs: skip, queue_one, cancel_running, allow.")
    ] = "skip",
    catchup: Annotated[
        str, typer.Option(help="Due times missed while no scheduler ran: none, last, all.")
    ] = "none",
    catchup_max: Annotated[int, typer.Option(help="catchup=all: at most this many.")] = 10,
    jitter: Annotated[float, typer.Option(help="Random delay up to this many seconds.")] = 0.0,
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Add a schedule to a workflow (operator)."""
    if (cron is None) == (every is None):
        output.fail("give exactly one of --cron or --every")
    body: dict[str, Any] = {
        "workflow": workflow,
        "name": name,
        "timezone": timezone,
        "input_payload": build_input(input_json, input_file, sets or []),
        "overlap": overlap,
        "catchup": catchup,
        "catchup_max": catchup_max,
        "jitter_seconds": jitter,
        "enabled": not paused,
    }
    body |= {"cron": cron} if cron is not None else {"interval_seconds": parse_every(every or "")}
    api = client(url, token)
    with api, output.api_errors():
        created = api.create_schedule(body)
    if as_json:
        output.print_json(created)
    else:
        output.out.print(created["id"])
        output.err.print(
            f"next due {output.when(created['next_due_at'])}"
            if created["next_due_at"]
            else "paused"
        )


@app.command("list", epilog="Example: jobmonitor schedule list --workflow data_pipeline")
def list_schedules(
    workflow: Annotated[str | None, typer.Option(help="Only this workflow's.")] = None,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """List schedules with their timing, policies and next due time."""
    api = client(url, token)
    with api, output.api_errors():
        items = api.schedules(workflow)
    if as_json:
        output.print_json(items)
        return
    if not items:
        output.err.print("no schedules: `jobmonitor schedule add WORKFLOW --name N --cron ...`")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in (
        "id",
        "workflow",
        "name",
        "when",
        "overlap",
        "catchup",
        "next due",
        "last fired",
    ):
        table.add_column(column, no_wrap=True)
    for s in items:
        when = s["cron"] or f"every {s['interval_seconds']:g}s"
        table.add_row(
            s["id"],
            s["workflow_name"],
            s["name"],
            f"{when} ({s['timezone']})" if s["cron"] else when,
            s["overlap"],
            s["catchup"] if s["catchup"] != "all" else f"all (max {s['catchup_max']})",
            output.when(s["next_due_at"]) if s["enabled"] else "paused",
            output.when(s["last_fired_at"]) if s["last_fired_at"] else "-",
        )
    output.out.print(table)


@app.command(epilog="Example: jobmonitor schedule pause SCHEDULE_ID")
def pause(
    schedule: ScheduleId, url: Url = None, token: Token = None, as_json: Json = False
) -> None:
    """Pause a schedule: it fires nothing until resumed."""
    _act("pause", schedule, url, token, as_json)


@app.command(epilog="Example: jobmonitor schedule resume SCHEDULE_ID")
def resume(
    schedule: ScheduleId, url: Url = None, token: Token = None, as_json: Json = False
) -> None:
    """Resume a schedule from now on (due times passed while paused are not caught up)."""
    _act("resume", schedule, url, token, as_json)


@app.command(epilog="Example: jobmonitor schedule delete SCHEDULE_ID")
def delete(schedule: ScheduleId, url: Url = None, token: Token = None) -> None:
    """Delete a schedule (the jobs it started stay)."""
    api = client(url, token)
    with api, output.api_errors():
        api.delete_schedule(schedule)
    output.err.print(f"deleted schedule {schedule}")


@app.command("next", epilog="Example: jobmonitor schedule next SCHEDULE_ID --count 10")
def next_times(
    schedule: ScheduleId,
    count: Annotated[int, typer.Option(help="How many.", min=1, max=100)] = 5,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """The next due times, in local time (and the schedule's time zone)."""
    api = client(url, token)
    with api, output.api_errors():
        answer = api.schedule_next(schedule, count)
    if as_json:
        output.print_json(answer)
        return
    for time in answer["times"]:
        output.out.print(f"{output.when(time)}  ({time})")


def _act(action: str, schedule: str, url: str | None, token: str | None, as_json: bool) -> None:
    api = client(url, token)
    with api, output.api_errors():
        after = api.schedule_action(schedule, action)
    if as_json:
        output.print_json(after)
    else:
        state = f"next due {output.when(after['next_due_at'])}" if after["enabled"] else "paused"
        output.err.print(f"{action}: schedule {after['name']} of {after['workflow_name']}: {state}")
