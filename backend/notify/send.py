"""One delivery attempt over HTTP (httpx): the body, its signature, the SSRF guard on every
hop, a timeout, and the outcome. Nothing here touches the database.

Webhook bodies are the payload as JSON, signed with HMAC-SHA256 over `"<timestamp>.<body>"`:

    X-Jobmonitor-Timestamp: 1764567890
    X-Jobmonitor-Signature: v1=<hex digest>
    X-Jobmonitor-Delivery: <delivery id>

A receiver recomputes the digest with the channel's secret and refuses old timestamps. Slack
channels get `{"text": ...}` (Slack's incoming-webhook shape, also Mattermost's and others').
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from backend.notify import guard
from backend.settings import get_settings

MAX_REDIRECTS = 3


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: float
    retry: bool  # worth another attempt (a refusal by the guard is not)
    url: str  # where it went last, redacted


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def request_parts(
    kind: str, secret: str | None, delivery_id: uuid.UUID, payload: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    document = {"text": payload.get("text", "")} if kind == "slack" else payload
    body = json.dumps(document, separators=(",", ":"), default=str).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "jobmonitor-webhooks"}
    if kind == "webhook":
        timestamp = int(time.time())
        headers["X-Jobmonitor-Timestamp"] = str(timestamp)
        headers["X-Jobmonitor-Delivery"] = str(delivery_id)
        if secret:
            headers["X-Jobmonitor-Signature"] = sign(secret, timestamp, body)
    return body, headers


def deliver(
    url: str, kind: str, secret: str | None, delivery_id: uuid.UUID, payload: dict[str, Any]
) -> Outcome:
    settings = get_settings()
    body, headers = request_parts(kind, secret, delivery_id, payload)
    started = time.monotonic()
    target = url
    try:
        with httpx.Client(timeout=settings.webhook_timeout, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                address = guard.check(target, settings.webhook_allowed_hosts)
                url, host, extensions = guard.pinned(target, address)
                response = client.post(
                    url, content=body, headers=headers | host, extensions=extensions
                )
                if not response.is_redirect:
                    return _answered(response, started, target)
                target = str(httpx.URL(target).join(response.headers["location"]))
            return _failed(f"more than {MAX_REDIRECTS} redirects", started, target, retry=False)
    except guard.Denied as exc:
        return _failed(f"denied: {exc}", started, target, retry=False)
    except httpx.HTTPError as exc:
        return _failed(f"{type(exc).__name__}: {exc}", started, target, retry=True)


def _answered(response: httpx.Response, started: float, url: str) -> Outcome:
    ok = response.is_success
    error = None if ok else f"HTTP {response.status_code}: {response.text[:200]}"
    return Outcome(ok, response.status_code, error, _ms(started), not ok, guard.redact(url))


def _failed(error: str, started: float, url: str, retry: bool) -> Outcome:
    return Outcome(False, None, error, _ms(started), retry, guard.redact(url))


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
