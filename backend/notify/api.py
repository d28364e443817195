"""Notification channels: outgoing webhooks (signed JSON) and Slack-compatible webhooks, a test
send, and the delivery log with every attempt. Admins change channels (they send data out)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi import status as http

from backend.audit import record_audit
from backend.db import api_pool
from backend.http.deps import Admin, Principal, Viewer, transaction
from backend.http.responses import errors
from backend.notify import guard, queries, service
from backend.notify.rows import ChannelRow
from backend.notify.schemas import Channel, ChannelCreate, ChannelList, Delivery, DeliveryList

router = APIRouter(prefix="/channels", tags=["notifications"])

NOT_FOUND = "No such channel in this workspace"
ERRORS = errors(not_found=NOT_FOUND)


def _out(row: ChannelRow, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "url": guard.redact(row.url),
        "has_secret": row.secret is not None,
        "secret": secret,
        "enabled": row.enabled,
        "created_at": row.created_at,
    }


@router.post(
    "",
    status_code=http.HTTP_201_CREATED,
    response_model=Channel,
    responses=errors(conflict="A channel of this name exists", invalid="A field is invalid"),
)
def create_channel(body: ChannelCreate, principal: Admin) -> dict[str, Any]:
    """The answer carries the signing secret this once; later reads never do."""
    with transaction() as conn:
        row, secret = service.create_channel(conn, principal.workspace_id, body)
        _audit(conn, principal, "channel.create", row)
    return _out(row, secret)


@router.get("", response_model=ChannelList, responses=ERRORS)
def list_channels(principal: Viewer) -> dict[str, Any]:
    with transaction() as conn:
        return {"items": [_out(r) for r in queries.list_channels(conn, principal.workspace_id)]}


@router.get("/{channel_id}", response_model=Channel, responses=ERRORS)
def get_channel(channel_id: uuid.UUID, principal: Viewer) -> dict[str, Any]:
    with transaction() as conn:
        return _out(queries.get_channel(conn, principal.workspace_id, channel_id))


@router.delete("/{channel_id}", status_code=http.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_channel(channel_id: uuid.UUID, principal: Admin) -> Response:
    with transaction() as conn:
        row = service.delete_channel(conn, principal.workspace_id, channel_id)
        _audit(conn, principal, "channel.delete", row)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.post(
    "/{channel_id}/test",
    response_model=Delivery,
    responses=errors(not_found=NOT_FOUND, conflict="The channel is disabled"),
)
def test_send(channel_id: uuid.UUID, principal: Admin) -> dict[str, Any]:
    """Send a test message now, once; the answer is the delivery with its attempt (a receiver
    that refused, or a URL the SSRF guard denies, shows as `failed` with the reason)."""
    with api_pool().connection() as conn:
        delivery_id = service.test_send(conn, principal.workspace_id, channel_id)
        conn.commit()
    with transaction() as conn:
        items = service.deliveries(conn, principal.workspace_id, channel_id, 50)
    return next(d for d in items if d["id"] == delivery_id)


@router.get("/{channel_id}/deliveries", response_model=DeliveryList, responses=ERRORS)
def deliveries(
    channel_id: uuid.UUID, principal: Viewer, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> dict[str, Any]:
    """Deliveries newest first, each with every attempt (status code or error, duration)."""
    with transaction() as conn:
        return {"items": service.deliveries(conn, principal.workspace_id, channel_id, limit)}


def _audit(conn: Any, principal: Principal, action: str, row: ChannelRow) -> None:
    data = {"name": row.name, "kind": row.kind, "url": guard.redact(row.url)}
    record_audit(conn, principal, action, "channel", row.id, None, None, data)
