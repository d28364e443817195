"""The cross-process event channel: after a transaction commits, its `job_events` rows are
published on Redis pub/sub, one channel per workspace. Subscribers that miss a message read
the gap from `job_events` by id, so a lost publish loses nothing."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from redis.client import Pipeline

from backend.settings import get_settings


def channel(workspace_id: uuid.UUID | str) -> str:
    return f"{get_settings().events_channel_prefix}:{workspace_id}"


def json_default(value: Any) -> Any:
    """JSON for what rows hold: timestamps, UUIDs, numerics."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, default=json_default, separators=(",", ":"))


def publish(pipe: Pipeline, events: list[dict[str, Any]]) -> None:
    """Add one PUBLISH per event to `pipe`, in id order (the caller executes it)."""
    for event in sorted(events, key=lambda e: e["id"]):
        pipe.publish(channel(event["workspace_id"]), dumps(event))
