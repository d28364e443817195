"""`jobmonitor api`: the API alone (no web UI), for scaling the API out behind a balancer."""

from __future__ import annotations

from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from backend.api.app import create_app
from backend.logs import json_lines


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the API with uvicorn. Several workers need an import string, so they use the
    factory (`backend.api.app:create_app`); one worker runs the app object."""
    if workers > 1:
        uvicorn.run(
            "backend.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_level="info",
            log_config=_log_config(),
        )
        return
    uvicorn.run(
        create_app(),
        host=host,
        port=port,
        proxy_headers=True,
        log_level="info",
        log_config=_log_config(),
    )


def _log_config() -> dict[str, Any] | None:
    """uvicorn's own logging config; none for JSON lines (`create_app` configures logging)."""
    return None if json_lines() else LOGGING_CONFIG
