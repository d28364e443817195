"""One job as one JSON document (job, steps, every attempt, logs, costs, metrics, events), with
secrets redacted: values under secret-looking keys, credentials inside URLs, bearer tokens,
our own API tokens and `password=...`-style pairs inside free text (logs, tracebacks)."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg

from backend.events import json_default
from backend.jobs import queries

REDACTED = "[REDACTED]"
FORMAT = "jobmonitor.job-export/1"

_SECRET_WORDS = (
    r"password|passwd|pwd|passphrase|secrets?|token|api_?key|access_?key|secret_?key|private_?key|"
    r"client_?secret|auth|authorization|dsn|credentials?|cookie|session_?id|signature|bearer|"
    r"connection_?string|conn_?str"
)
_SECRET_KEY = re.compile(rf"(^|_)({_SECRET_WORDS})(_|$)")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@]+@")
_URL_QUERY_SECRET = re.compile(rf"(?i)([?&;](?:[a-z0-9_\-]*?)(?:{_SECRET_WORDS})=)[^&\s#\"']+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}")
_OUR_TOKEN = re.compile(r"\bjm_[0-9a-f]{8}_[A-Za-z0-9_\-]{20,}")
_PAIR = re.compile(
    rf"(?i)\b([a-z0-9_\-]*(?:{_SECRET_WORDS}))(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&]+)"
)


def is_secret_key(key: str) -> bool:
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    normal = re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_")
    return bool(_SECRET_KEY.search(normal))


def redact_text(text: str) -> str:
    text = _URL_USERINFO.sub(rf"\1{REDACTED}@", text)
    text = _URL_QUERY_SECRET.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _OUR_TOKEN.sub(REDACTED, text)
    return _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def redact(value: Any) -> Any:
    """A copy of `value` with secrets replaced by "[REDACTED]"."""
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and is_secret_key(k) and v is not None else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def export_job(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID
) -> dict[str, Any]:
    """Everything recorded about one job, redacted (NotFound for another workspace's job)."""
    job = dataclasses.asdict(queries.get_job(conn, job_id, workspace_id=workspace_id))
    del job["workflow_version_id"]  # the document names the version by number
    document: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": datetime.now(UTC),
        "job": job,
        "steps": [
            {**dataclasses.asdict(s), "step_id": s.step_id, "retry_count": s.retry_count}
            for s in queries.list_steps(conn, workspace_id, job_id)
        ],
        **queries.job_records(conn, job_id),
    }
    return redact(document)  # type: ignore[no-any-return]


def dumps(document: dict[str, Any]) -> bytes:
    return json.dumps(document, default=json_default, indent=2).encode()
