"""`jobmonitor token create|list|revoke`: server-side, on the database directly (like
`migrate`), so an operator can bootstrap access before any token exists. Audited."""

from __future__ import annotations

import contextlib
import getpass
import json
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backend.audit import record_audit
from backend.auth import service
from backend.db import connect
from backend.errors import JobmonitorError
from cli import output
from cli.preflight import servers

app = typer.Typer(
    help="API tokens (server-side: works on the database directly).",
    epilog="Example: jobmonitor token create --workspace default --role operator --name ci-bot\n\n"
    "An instance admin (every workspace): jobmonitor token create --instance-admin --name ops",
    no_args_is_help=True,
)
out = output.out
err = Console(stderr=True)
Workspace = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug.")]


@dataclass(frozen=True)
class OperatorActor:
    workspace_id: uuid.UUID

    @property
    def actor(self) -> str:
        return f"cli:{getpass.getuser()}"


@app.command(
    epilog="Example: jobmonitor token create --workspace default --role operator --name ci-bot"
)
def create(
    name: Annotated[str, typer.Option(help="A name for the token (unique in the workspace).")],
    workspace: Workspace = "default",
    role: Annotated[str, typer.Option(help="viewer, operator or admin.")] = "viewer",
    instance_admin: Annotated[
        bool,
        typer.Option(
            "--instance-admin",
            help="An admin that may act in every workspace (X-Workspace-Id/-Slug) and create "
            "workspaces; implies --role admin. Only this command makes one.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a token and print it once (it is stored hashed). Creates the workspace if new."""
    role = "admin" if instance_admin else role
    with _errors(), connect() as conn, conn.transaction():
        plaintext, row, created = service.bootstrap_token(
            conn, workspace, role, name, instance_admin
        )
        record_audit(
            conn,
            OperatorActor(row.workspace_id),
            "token.create",
            "token",
            row.id,
            data={"name": name, "role": role, "instance_admin": instance_admin},
        )
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "token": plaintext,
                    "id": str(row.id),
                    "name": name,
                    "role": row.role,
                    "instance_admin": row.instance_admin,
                    "workspace": workspace,
                    "workspace_created": created,
                }
            )
        )
        return
    if created:
        err.print(f"created workspace {workspace!r}")
    kind = "instance admin" if row.instance_admin else row.role
    err.print(f"token {name!r} ({kind}) for workspace {workspace!r}; shown once:")
    print(plaintext)


@app.command("list", epilog="Example: jobmonitor token list --workspace default")
def list_tokens(
    workspace: Workspace = "default", as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List the workspace's tokens (never their values)."""
    with _errors(), connect() as conn:
        ws = service.find_workspace(conn, slug=workspace)
        rows = service.list_tokens(conn, ws.id)
    if as_json:
        out.print_json(json.dumps([asdict(r) for r in rows], default=str))
        return
    table = Table(
        "id", "name", "role", "prefix", "created", "last used", "revoked", box=output.table_box()
    )
    for r in rows:
        table.add_row(
            str(r.id),
            r.name,
            "instance admin" if r.instance_admin else r.role,
            r.prefix,
            _when(r.created_at),
            _when(r.last_used_at),
            _when(r.revoked_at),
        )
    out.print(table)


@app.command(epilog="Example: jobmonitor token revoke 3f2c... --workspace default")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (see `token list`).")],
    workspace: Workspace = "default",
) -> None:
    """Revoke a token: requests with it get 401 from now on."""
    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        err.print(
            f"[red]not a token id: {token_id!r} (expected a UUID from `jobmonitor token list`)[/red]"
        )
        raise typer.Exit(2) from None
    with _errors(), connect() as conn, conn.transaction():
        ws = service.find_workspace(conn, slug=workspace)
        row = service.revoke_token(conn, ws.id, parsed)
        record_audit(
            conn,
            OperatorActor(ws.id),
            "token.revoke",
            "token",
            parsed,
            data={"name": row.name},
        )
    err.print(f"revoked token {row.name!r}")


def first_admin_token(workspace: str) -> str | None:
    """For `up`: an admin token on the very first start, else None."""
    with connect() as conn, conn.transaction():
        return service.ensure_first_admin(conn, workspace)


def _when(value: object) -> str:
    return "" if value is None else str(value)[:19]


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Domain errors become a message and exit code 2 instead of a traceback; a database
    that does not answer, one line and exit 3."""
    try:
        with servers():
            yield
    except JobmonitorError as exc:
        err.print(f"[red]{exc.message}[/red]")
        for problem in exc.details if isinstance(exc.details, list) else []:
            err.print(f"  {'.'.join(map(str, problem.get('loc', [])))}: {problem.get('msg')}")
        raise typer.Exit(2) from None
