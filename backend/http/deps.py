"""Request dependencies: the database transaction, the caller (`Principal`) and role checks.

Routes are sync functions (FastAPI runs them in its thread pool) that open
`with transaction() as conn:`, call services, and flush the Outbox after the commit.
"""

from __future__ import annotations

import hmac
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import psycopg
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis import Redis

from backend import outages
from backend.auth import service as auth
from backend.auth.rows import WorkspaceRow
from backend.auth.service import Role
from backend.db import api_pool, begin_api_transaction
from backend.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from backend.jobs.outbox import Outbox
from backend.redaction import redact
from backend.redis_url import redis_from_url
from backend.settings import get_settings

QUERY_TOKEN_NAMES = frozenset(
    {"token", "access_token", "api_key", "apikey", "auth", "authorization", "bearer", "key"}
)

T = TypeVar("T")
OUTAGE_WAIT_SECONDS = 1.0

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer jm_...`")


@contextmanager
def transaction() -> Iterator[psycopg.Connection[Any]]:
    """A pooled connection inside one transaction: committed when the block ends normally.
    While the database is known to be away, a request waits 1 s for it, not the pool's 5 s."""
    wait = OUTAGE_WAIT_SECONDS if outages.DATABASE.since is not None else None
    with api_pool().connection(timeout=wait) as conn, conn.transaction():
        begin_api_transaction(conn)
        yield conn


@dataclass(frozen=True)
class Principal:
    """Who calls, with which role, in which workspace (the token's, or the one an instance
    admin picked with X-Workspace-Id / X-Workspace-Slug; a workspace admin is confined to its
    own workspace)."""

    token_id: uuid.UUID
    token_name: str
    token_prefix: str
    role: Role
    home_workspace_id: uuid.UUID
    workspace_id: uuid.UUID
    workspace_slug: str
    instance_admin: bool = False
    operators_see_secrets: bool = False  # the setting of the workspace the request acts in

    @property
    def sees_secrets(self) -> bool:
        """Raw inputs and logs only for operators and admins, and only where the workspace
        allows it; everyone else reads them redacted."""
        return self.operators_see_secrets and self.role.allows(Role.OPERATOR)

    @property
    def actor(self) -> str:
        return f"token:{self.token_name} (jm_{self.token_prefix})"


def disclose(principal: Principal, value: T) -> T:
    """`value` as the caller may read it: secrets redacted (backend.redaction) unless the
    caller sees secrets."""
    return value if principal.sees_secrets else redact(value)  # type: ignore[no-any-return]


def token_from_header(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def refuse_query_tokens(query_keys: Any) -> None:
    leaked = sorted(k for k in query_keys if k.lower() in QUERY_TOKEN_NAMES)
    if leaked:
        raise Unauthenticated(
            "tokens in query strings are refused (they end up in logs); send `Authorization: Bearer <token>`",
            {"parameters": leaked},
        )


def resolve(
    conn: psycopg.Connection[Any],
    token: str | None,
    workspace_id: str | None,
    workspace_slug: str | None,
) -> Principal:
    """Authenticate the token and pick the workspace. Shared by HTTP routes and WebSockets."""
    if token is None:
        raise Unauthenticated("missing bearer token: send `Authorization: Bearer <token>`")
    who = auth.authenticate(conn, token)
    if who is None:
        raise Unauthenticated("invalid or revoked token")
    ws_id, ws_slug, see = who.workspace_id, who.workspace_slug, who.operators_see_secrets
    if workspace_id is not None or workspace_slug is not None:
        if not who.instance_admin and not _names_home(who, workspace_id, workspace_slug):
            # the same answer as for a workspace that does not exist: existence is not revealed
            raise NotFound(f"workspace {workspace_id or workspace_slug} not found")
        target = _pick_workspace(conn, workspace_id, workspace_slug)
        ws_id, ws_slug, see = target.id, target.slug, target.operators_see_secrets
    return Principal(
        token_id=who.token_id,
        token_name=who.token_name,
        token_prefix=who.token_prefix,
        role=who.role,
        home_workspace_id=who.workspace_id,
        workspace_id=ws_id,
        workspace_slug=ws_slug,
        instance_admin=who.instance_admin,
        operators_see_secrets=see,
    )


def _names_home(who: auth.Authenticated, workspace_id: str | None, slug: str | None) -> bool:
    """Whether the headers name the token's own workspace (a malformed id is left to the
    422 of `_pick_workspace`)."""
    try:
        same_id = workspace_id is None or uuid.UUID(workspace_id) == who.workspace_id
    except ValueError:
        return True
    return same_id and (slug is None or slug == who.workspace_slug)


def _pick_workspace(
    conn: psycopg.Connection[Any], workspace_id: str | None, slug: str | None
) -> WorkspaceRow:
    if workspace_id is not None:
        try:
            parsed = uuid.UUID(workspace_id)
        except ValueError:
            raise InvalidInput(
                "X-Workspace-Id is not a UUID",
                [{"loc": ["header", "x-workspace-id"], "msg": "not a UUID"}],
            ) from None
        row = auth.find_workspace(conn, workspace_id=parsed)
        if slug is not None and row.slug != slug:
            raise InvalidInput(
                "X-Workspace-Id and X-Workspace-Slug name different workspaces",
                [{"loc": ["header", "x-workspace-slug"], "msg": "does not match X-Workspace-Id"}],
            )
        return row
    return auth.find_workspace(conn, slug=slug)


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    x_workspace_id: Annotated[
        str | None, Header(description="Instance-admin tokens: act in this workspace (id)")
    ] = None,
    x_workspace_slug: Annotated[
        str | None, Header(description="Instance-admin tokens: act in this workspace (slug)")
    ] = None,
) -> Principal:
    refuse_query_tokens(request.query_params.keys())
    token = (
        credentials.credentials
        if credentials
        else token_from_header(request.headers.get("authorization"))
    )
    with transaction() as conn:
        principal = resolve(conn, token, x_workspace_id, x_workspace_slug)
    request.state.principal = principal
    return principal


def metrics_scope(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    x_workspace_id: Annotated[str | None, Header()] = None,
    x_workspace_slug: Annotated[str | None, Header()] = None,
) -> Principal | None:
    """Who scrapes the metrics: None for the instance's scrape token (JOBMONITOR_METRICS_TOKEN,
    every workspace), else any API token's principal (its workspace)."""
    expected = get_settings().metrics_token
    given = credentials.credentials if credentials else ""
    if expected and given and hmac.compare_digest(given, expected.get_secret_value()):
        return None
    return get_principal(request, credentials, x_workspace_id, x_workspace_slug)


MetricsScope = Annotated[Principal | None, Depends(metrics_scope)]


def require_role(needed: Role) -> Callable[..., Principal]:
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.role.allows(needed):
            raise Forbidden(
                f"this needs the {needed.value} role; the token has {principal.role.value}",
                {"required_role": needed.value, "token_role": principal.role.value},
            )
        return principal

    return check


Viewer = Annotated[Principal, Depends(require_role(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require_role(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]


def require_instance_admin(principal: Admin) -> Principal:
    if not principal.instance_admin:
        raise Forbidden(
            "this needs an instance-admin token (made on the server: "
            "`jobmonitor token create --instance-admin`)",
            {"required_role": "instance-admin", "token_role": principal.role.value},
        )
    return principal


InstanceAdmin = Annotated[Principal, Depends(require_instance_admin)]


_redis: Redis | None = None
_redis_key: tuple[int, str] | None = None


def api_redis() -> Redis:
    """The API's Redis client, with short timeouts so a stuck Redis never holds a request."""
    global _redis, _redis_key
    url = get_settings().require_redis_url()
    key = (os.getpid(), url)
    if _redis is None or _redis_key != key:
        _redis = redis_from_url(
            url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
        )
        _redis_key = key
    return _redis


def flush(outbox: Outbox) -> None:
    """Publish and enqueue after the commit (a Redis failure is logged; the reaper recovers);
    first the after-snapshots of the jobs the action ended, over a pooled connection."""
    if outbox.ended_jobs:
        with api_pool().connection() as conn:
            outbox.flush(conn, api_redis())
    else:
        outbox.flush(None, api_redis())
