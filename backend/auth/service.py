"""Workspaces and API tokens. A token is random, shown once, stored as a SHA-256 hash (it has
256 bits of entropy, so a slow hash adds nothing), looked up by its public prefix and compared
in constant time. Functions take the caller's connection; the caller commits."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import psycopg
from psycopg.rows import class_row, dict_row

from backend.auth.rows import TokenMatch, TokenRow, WorkspaceRow
from backend.errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "jm_"
_TOKEN_COLUMNS = (
    "id, workspace_id, name, role, prefix, created_at, last_used_at, revoked_at, instance_admin"
)
_WORKSPACE_COLUMNS = "id, slug, name, created_at, operators_see_secrets"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_TOKEN_SHAPE = re.compile(r"^jm_([0-9a-f]{8})_([A-Za-z0-9_-]{20,100})$")
DEFAULT_WORKSPACE = "default"


class Role(StrEnum):
    VIEWER = "viewer"  # read
    OPERATOR = "operator"  # also create, cancel, resume, re-run, delete jobs
    ADMIN = "admin"  # also tokens, workspaces and workflow definitions

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Authenticated:
    token_id: uuid.UUID
    token_name: str
    token_prefix: str
    role: Role
    workspace_id: uuid.UUID
    workspace_slug: str
    instance_admin: bool = False  # may act in every workspace, as an admin
    operators_see_secrets: bool = False  # the workspace's choice (see backend.redaction)


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh token and its public prefix: `jm_<8 hex>_<43 url-safe chars>`."""
    prefix = secrets.token_hex(4)
    return f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def check_slug(slug: str) -> str:
    if not re.match(SLUG_PATTERN, slug):
        raise InvalidInput(
            f"invalid workspace slug {slug!r}",
            [
                {
                    "loc": ["slug"],
                    "msg": "lowercase letters, digits and '-', 1-63 characters, starting with a letter or digit",
                }
            ],
        )
    return slug


def _workspaces(conn: psycopg.Connection[Any]) -> psycopg.Cursor[WorkspaceRow]:
    return conn.cursor(row_factory=class_row(WorkspaceRow))


def _tokens(conn: psycopg.Connection[Any]) -> psycopg.Cursor[TokenRow]:
    return conn.cursor(row_factory=class_row(TokenRow))


def create_workspace_if_missing(
    conn: psycopg.Connection[Any], slug: str, name: str | None = None
) -> tuple[WorkspaceRow, bool]:
    """The workspace with this slug, created when it does not exist; (row, created)."""
    check_slug(slug)
    row = (
        _workspaces(conn)
        .execute(
            f"""
            INSERT INTO workspaces (id, slug, name) VALUES (%s, %s, %s)
            ON CONFLICT (slug) DO NOTHING RETURNING {_WORKSPACE_COLUMNS}
            """,
            (uuid.uuid4(), slug, (name or slug)[:200]),
        )
        .fetchone()
    )
    if row is not None:
        return row, True
    return find_workspace(conn, slug=slug), False


def find_workspace(
    conn: psycopg.Connection[Any], *, workspace_id: uuid.UUID | None = None, slug: str | None = None
) -> WorkspaceRow:
    column, key = ("id", workspace_id) if workspace_id is not None else ("slug", slug)
    query = f"SELECT {_WORKSPACE_COLUMNS} FROM workspaces WHERE {column} = %s"
    row = _workspaces(conn).execute(query, (key,)).fetchone()
    if row is None:
        raise NotFound(f"workspace {workspace_id or slug} not found")
    return row


def set_operators_see_secrets(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, allowed: bool
) -> tuple[bool, WorkspaceRow]:
    """Let operators and admins read raw secrets through the API, or not; (before, row)."""
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(
            """
            UPDATE workspaces w SET operators_see_secrets = %s
            FROM (SELECT operators_see_secrets FROM workspaces WHERE id = %s FOR UPDATE) old
            WHERE w.id = %s
            RETURNING w.id, w.slug, w.name, w.created_at, w.operators_see_secrets,
                      old.operators_see_secrets AS before
            """,
            (allowed, workspace_id, workspace_id),
        )
        .fetchone()
    )
    if row is None:
        raise NotFound(f"workspace {workspace_id} not found")
    before = row.pop("before")
    return before, WorkspaceRow(**row)


def list_workspaces(conn: psycopg.Connection[Any]) -> list[WorkspaceRow]:
    return (
        _workspaces(conn)
        .execute(f"SELECT {_WORKSPACE_COLUMNS} FROM workspaces ORDER BY slug")
        .fetchall()
    )


def create_token(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    name: str,
    role: Role | str,
    instance_admin: bool = False,
) -> tuple[str, TokenRow]:
    """A new token; returns (plaintext, row). The plaintext is not stored anywhere. An
    instance admin is an admin of its own workspace that may act in every other one; only
    server-side callers (the CLI) make one."""
    role = _role(role)
    if instance_admin and role is not Role.ADMIN:
        raise InvalidInput(
            "an instance-admin token has the admin role",
            [{"loc": ["role"], "msg": "must be admin for an instance-admin token"}],
        )
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("invalid token name", [{"loc": ["name"], "msg": "1-100 characters"}])
    plaintext, prefix = new_token()
    row = (
        _tokens(conn)
        .execute(
            f"""
            INSERT INTO api_tokens (id, workspace_id, name, role, prefix, token_hash, instance_admin)
            VALUES (%s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (workspace_id, name) DO NOTHING
            RETURNING {_TOKEN_COLUMNS}
            """,
            (
                uuid.uuid4(),
                workspace_id,
                name,
                str(role),
                prefix,
                hash_token(plaintext),
                instance_admin,
            ),
        )
        .fetchone()
    )
    if row is None:
        raise Conflict(f"a token named {name!r} already exists in this workspace", {"name": name})
    return plaintext, row


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(
            f"unknown role {role!r}",
            [{"loc": ["role"], "msg": f"one of {', '.join(r.value for r in Role)}"}],
        ) from None


def list_tokens(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> list[TokenRow]:
    return (
        _tokens(conn)
        .execute(
            f"""
            SELECT {_TOKEN_COLUMNS}
            FROM api_tokens WHERE workspace_id = %s ORDER BY created_at, name
            """,
            (workspace_id,),
        )
        .fetchall()
    )


def revoke_token(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, token_id: uuid.UUID
) -> TokenRow:
    """Revoke a token (idempotent: revoking twice keeps the first time)."""
    row = (
        _tokens(conn)
        .execute(
            f"""
            UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
            WHERE id = %s AND workspace_id = %s
            RETURNING {_TOKEN_COLUMNS}
            """,
            (token_id, workspace_id),
        )
        .fetchone()
    )
    if row is None:
        raise NotFound(f"token {token_id} not found")
    return row


def authenticate(conn: psycopg.Connection[Any], plaintext: str) -> Authenticated | None:
    """The live token this plaintext is, or None. Lookup by the public prefix, then a
    constant-time comparison of the hashes."""
    shape = _TOKEN_SHAPE.match(plaintext)
    if shape is None:
        return None
    digest = hash_token(plaintext)
    rows = (
        conn.cursor(row_factory=class_row(TokenMatch))
        .execute(
            """
            SELECT t.id, t.name, t.role, t.prefix, t.token_hash, t.workspace_id, w.slug,
                   t.instance_admin, w.operators_see_secrets,
                   t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute' AS stale
            FROM api_tokens t JOIN workspaces w ON w.id = t.workspace_id
            WHERE t.prefix = %s AND t.revoked_at IS NULL
            """,
            (shape.group(1),),
        )
        .fetchall()
    )
    match = None
    for row in rows:
        if hmac.compare_digest(row.token_hash, digest):
            match = row
    if match is None:
        return None
    if match.stale:  # at most one write a minute per token
        conn.execute("UPDATE api_tokens SET last_used_at = now() WHERE id = %s", (match.id,))
    return Authenticated(
        token_id=match.id,
        token_name=match.name,
        token_prefix=match.prefix,
        role=Role(match.role),
        workspace_id=match.workspace_id,
        workspace_slug=match.slug,
        instance_admin=match.instance_admin,
        operators_see_secrets=match.operators_see_secrets,
    )


def bootstrap_token(
    conn: psycopg.Connection[Any],
    workspace_slug: str,
    role: Role | str,
    name: str,
    instance_admin: bool = False,
) -> tuple[str, TokenRow, bool]:
    """`jobmonitor token create`: a token in the workspace, which is created when it is new.
    Returns (plaintext, token row, workspace created)."""
    workspace, created = create_workspace_if_missing(conn, workspace_slug)
    plaintext, row = create_token(conn, workspace.id, name, role, instance_admin)
    return plaintext, row, created


def ensure_first_admin(
    conn: psycopg.Connection[Any], workspace_slug: str = DEFAULT_WORKSPACE
) -> str | None:
    """`jobmonitor up` on first start: when no token exists at all, create the default
    workspace and an instance-admin token (whoever runs `up` runs the instance) and return
    it; otherwise None."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('jobmonitor:first-admin'))")
    if conn.execute("SELECT 1 FROM api_tokens LIMIT 1").fetchone() is not None:
        return None
    plaintext, _, _ = bootstrap_token(
        conn, workspace_slug, Role.ADMIN, "first-admin", instance_admin=True
    )
    return plaintext
