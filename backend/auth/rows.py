"""The rows the auth domain's queries return: frozen, typed, built from the cursor. A token
row never holds the token's hash; only `authenticate` reads it (as a `TokenMatch`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class WorkspaceRow:
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime
    operators_see_secrets: bool


@dataclass(frozen=True, slots=True)
class TokenRow:
    """An API token as admins see it (its public prefix, never its secret or hash)."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    role: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    instance_admin: bool


@dataclass(frozen=True, slots=True)
class TokenMatch:
    """A live token with the prefix `authenticate` looks up, and its workspace's settings;
    `stale` when its last use is older than a minute (so it is recorded again)."""

    id: uuid.UUID
    name: str
    role: str
    prefix: str
    token_hash: str
    workspace_id: uuid.UUID
    slug: str
    instance_admin: bool
    operators_see_secrets: bool
    stale: bool
