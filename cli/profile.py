"""The login profile: the API URL and token saved by `jobmonitor login`, so the other commands
need neither `--url`/`--token` nor the environment variables.

Stored at `$XDG_CONFIG_HOME/jobmonitor/profile.json` (default `~/.config/...`), mode 0600 in a
0700 directory, written atomically (a temporary file renamed over the old one).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer


@dataclass(frozen=True)
class Profile:
    url: str
    token: str
    workspace: str = ""
    token_name: str = ""
    role: str = ""


def path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "jobmonitor" / "profile.json"


def load() -> Profile | None:
    """The saved profile; None when there is none. A damaged file is an error that says so."""
    file = path()
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ProfileError(
            f"cannot read the profile {file}: {exc}; run `jobmonitor login` again"
        ) from exc
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("url"), str)
        or not isinstance(data.get("token"), str)
    ):
        raise ProfileError(f"the profile {file} has no url and token; run `jobmonitor login` again")
    fields = {k: str(v) for k, v in data.items() if k in Profile.__dataclass_fields__}
    return Profile(**fields)


def save(profile: Profile) -> Path:
    file = path()
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".profile.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(profile), f, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return file


def remove() -> bool:
    try:
        path().unlink()
    except FileNotFoundError:
        return False
    return True


class ProfileError(Exception):
    """The profile file exists but cannot be used."""


# --- commands ---------------------------------------------------------------------------------

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
    from apiclient.base import normalize_url
    from apiclient.sync import SyncClient
    from cli import output
    from cli.client import DEFAULT_URL

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
    saved_at = save(
        Profile(
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
    from cli import output

    file = path()
    if remove():
        output.err.print(f"removed {file}")
    else:
        output.err.print(f"no profile at {file}; nothing to do")


def _load_quietly() -> Profile | None:
    try:
        return load()
    except ProfileError:
        return None


def register(app: typer.Typer) -> None:
    app.command(epilog=LOGIN_EPILOG)(login)
    app.command(epilog="Example: jobmonitor logout")(logout)
