"""`jobmonitor api`: the API alone (no web UI), for scaling the API out behind a balancer."""

from __future__ import annotations

import uvicorn

from backend.api.app import create_app


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
        )
        return
    uvicorn.run(create_app(), host=host, port=port, proxy_headers=True, log_level="info")
