"""Options every client command takes, and small argument checks."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from apiclient.sync import SyncClient
from cli import output
from cli.client import connect

Url = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="JOBMONITOR_URL",
        show_envvar=True,
        help="The server, e.g. http://127.0.0.1:3000 (default: the login profile's).",
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="JOBMONITOR_TOKEN",
        show_envvar=True,
        show_default=False,
        help="API token (default: the login profile's).",
    ),
]
Json = Annotated[
    bool, typer.Option("--json", help="Print JSON (the API's shapes) instead of tables.")
]
JobId = Annotated[
    str,
    typer.Argument(
        help="The job's id (a UUID, as `jobmonitor jobs` prints it).", show_default=False
    ),
]


def client(url: str | None, token: str | None) -> SyncClient:
    """A client for the resolved server and token (exit 2 with advice when there is no token)."""
    with output.api_errors():
        return connect(url, token)


def job_id(value: str) -> str:
    """The job id, checked before any request (exit 2 with the expected form)."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        output.fail(
            f"not a job id: {value!r}",
            "a job id is a UUID like 3f2c9a1e-...; list them with `jobmonitor jobs`",
        )
