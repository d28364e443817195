"""What `jobmonitor up`'s supervisor says about the processes it keeps running: a small JSON
state file (`<data dir>/up-state.json`), written by the supervisor, read for `/metrics`
(`jobmonitor_process_restarts_total`). Absent when the processes are not run by `up`."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from backend.settings import get_settings

STATE_FILE = "up-state.json"
log = logging.getLogger(__name__)


def state_path(data_dir: Path | None = None) -> Path:
    return Path(data_dir or get_settings().data_dir).resolve() / STATE_FILE


def write_state(
    path: Path, children: dict[str, dict[str, Any]], services: dict[str, dict[str, Any]]
) -> None:
    """Replace the state file atomically (best effort: a supervisor never stops for it)."""
    document = {
        "supervisor_pid": os.getpid(),
        "updated_at": time.time(),
        "children": children,
        "services": services,
    }
    partial = path.with_suffix(".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(document, indent=1))
        os.replace(partial, path)
    except OSError as exc:
        log.warning("could not write %s: %s", path, exc)


def read_state(path: Path | None = None) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads((path or state_path()).read_text())
    except (OSError, ValueError):
        return None
    return state


def restarts(path: Path | None = None) -> list[tuple[str, int]] | None:
    """Restarts per supervised process and service, None when `up` does not run here."""
    state = read_state(path)
    if state is None:
        return None
    return [
        (str(name), int(entry.get("restarts", 0)))
        for kind in ("children", "services")
        for name, entry in sorted(state.get(kind, {}).items())
    ]
