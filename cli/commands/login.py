"""`jobmonitor login` (check a token and save it with its URL as the profile) and
`jobmonitor logout` (forget the profile)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from apiclient.base import normalize_url
from apiclient.sync import SyncClient
from cli import output, profile
from cli.client import DEFAULT_URL

LOGIN_EPILOG = """Examples:

  jobmonitor login --url http://jobs.internal:3000 --token jm_...

  JOBMONITOR_TOKEN=jm_... jobmonitor login   (the URL defaults to the saved or local one)
"""


def login(
    url: Annotated[
        str | None,
        typer.Option(envvar="JOBMONITOR_URL", help="The server (the web app's address)."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="JOBMONITOR_TOKEN", help="An API token; asked for (hidden) when not given."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check a token against the server (GET /api/v1/me) and save URL and token as your profile."""
    saved = _load_quietly()
    base = normalize_url(url or (saved.url if saved else DEFAULT_URL))
    if not token:
        token = _ask_token(base)
    if not token:
        output.fail(
            "no token given", "pass --token, set JOBMONITOR_TOKEN, or type it at the prompt"
        )
    with output.api_errors(), SyncClient(base, token) as api:
        me = api.me()
    workspace: dict[str, Any] = me.get("workspace") or {}
    saved_at = profile.save(
        profile.Profile(
            url=base,
            token=token,
            workspace=str(workspace.get("slug", "")),
            token_name=str(me.get("token_name", "")),
            role=str(me.get("role", "")),
        )
    )
    if as_json:
        output.print_json({"url": base, "profile": str(saved_at), **me})
        return
    output.err.print(
        f"logged in to {base} as token [bold]{me.get('token_name')}[/bold] ({me.get('role')}) "
        f"in workspace [bold]{workspace.get('slug')}[/bold]; saved to {saved_at}"
    )


def _ask_token(base: str) -> str:
    """Hidden prompt on a terminal; the first line of stdin otherwise (`pass show jm | jobmonitor login`)."""
    if sys.stdin.isatty():
        return str(typer.prompt(f"API token for {base}", hide_input=True)).strip()
    return sys.stdin.readline().strip()


def logout() -> None:
    """Delete the saved profile (the token itself stays valid: revoke it with `token revoke`)."""
    file = profile.path()
    if profile.remove():
        output.err.print(f"removed {file}")
    else:
        output.err.print(f"no profile at {file}; nothing to do")


def _load_quietly() -> profile.Profile | None:
    try:
        return profile.load()
    except profile.ProfileError:
        return None


def register(app: typer.Typer) -> None:
    app.command(epilog=LOGIN_EPILOG)(login)
    app.command(epilog="Example: jobmonitor logout")(logout)
