"""The `jobmonitor` command. Server-side commands (up, worker, reaper, migrate, seed, api,
token) work on the database and Redis directly; every other command is a client of the REST
API, like any user's script."""

from __future__ import annotations

import typer

from cli import envfile, server
from cli.commands import (
    actions,
    audit,
    doctor,
    human,
    investigate,
    jobs,
    login,
    prune,
    run,
    runs,
    workflows,
)
from cli.commands import schedules as schedule_commands
from cli.services import recorded

CLIENT_PANEL = "Client commands (REST API)"
SERVER_PANEL = "Server-side commands (database and Redis)"

app = typer.Typer(
    name="jobmonitor",
    help="Run workflows on rq workers, record them in PostgreSQL, and watch them live.\n\n"
    "Client commands talk to the REST API: --url/JOBMONITOR_URL and --token/JOBMONITOR_TOKEN, or the "
    "profile `jobmonitor login` saves. Exit codes: 0 ok, 1 the job failed or a check failed, 2 usage or "
    "input error, 3 cannot reach the server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _read_env_file(ctx: typer.Context) -> None:
    """Runs before any command parses its options: `.env` as the settings read it, then the
    private servers a running `jobmonitor up` recorded (not for `up` itself: it finds its own)."""
    envfile.load()
    if ctx.invoked_subcommand != "up":
        recorded.apply()


def _panel(name: str) -> None:
    """Put the commands registered so far without a panel into `name` (for --help)."""
    for command in app.registered_commands:
        command.rich_help_panel = command.rich_help_panel or name
    for group in app.registered_groups:
        group.rich_help_panel = group.rich_help_panel or name


for module in (run, jobs, actions, doctor, prune, audit, runs, investigate):
    module.register(app)
app.add_typer(workflows.app, name="workflows")
human.register(app)

app.add_typer(schedule_commands.app, name="schedule")
login.register(app)
_panel(CLIENT_PANEL)
server.register(app)
_panel(SERVER_PANEL)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
