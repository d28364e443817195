"""The `jobmonitor` command. Server-side commands (up, worker, reaper, migrate, seed, api,
token) work on the database and Redis directly; every other command is a client of the REST
API, like any user's script."""

from __future__ import annotations

import typer

from cli import server

app = typer.Typer(
    name="jobmonitor",
    help="Run workflows on rq workers, record them in PostgreSQL, and watch them live.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
server.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
