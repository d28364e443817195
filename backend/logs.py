"""Process logging on stderr: text (the default) or one JSON object per line
(`JOBMONITOR_LOG_FORMAT=json`) for every process: workers, the reaper, the API (with uvicorn's
access and error logs) and the web app's API.

The work at hand travels in a context variable and becomes fields of every line logged inside
it: `request_id` in the API (`RequestContext`), `job_id`, `step`, `attempt` and `attempt_id`
in a worker while it claims, runs or records an attempt.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from backend.settings import get_settings

TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
# servers that configure their own loggers: in JSON mode they log through ours
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "rq.worker")

_context: ContextVar[dict[str, str] | None] = ContextVar("jobmonitor_log_context", default=None)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add `fields` (None values left out) to every line logged inside the block."""
    added = {k: str(v) for k, v in fields.items() if v is not None}
    token = _context.set({**(_context.get() or {}), **added})
    try:
        yield
    finally:
        _context.reset(token)


def json_lines() -> bool:
    return get_settings().log_format == "json"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the context's fields, and the
    exception's traceback as text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
            **(_context.get() or {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: int = logging.WARNING, server_level: int = logging.INFO) -> None:
    """The process's logging: one stderr handler on the root logger, in the configured format.
    In JSON mode the servers' own loggers (uvicorn, rq) write through it too, at
    `server_level`, so that every line of the process is JSON."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines() else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    if json_lines():
        for name in SERVER_LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate = [handler], False
            logger.setLevel(level if name == "rq.worker" else server_level)
