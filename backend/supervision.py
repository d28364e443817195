"""What `jobmonitor up`'s supervisor says about the processes it keeps running: a small JSON
state file (`<data dir>/up-state.json`), written by the supervisor, read for `/metrics`
(`jobmonitor_process_restarts_total`). Absent when the processes are not run by `up`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from backend.settings import get_settings

STATE_FILE = "up-state.json"


def state_path(data_dir: Path | None = None) -> Path:
    return Path(data_dir or get_settings().data_dir).resolve() / STATE_FILE


def write_state(
    path: Path, children: dict[str, dict[str, Any]], services: dict[str, dict[str, Any]]
) -> None:
    """Replace the state file atomically."""
    document = {
        "supervisor_pid": os.getpid(),
        "updated_at": time.time(),
        "children": children,
        "services": services,
    }
    partial = path.with_suffix(".partial")
    path.parent.mkdir(parents=True, exist_ok=True)  # JOBMONITOR_DATA_DIR may not exist yet
    partial.write_text(json.dumps(document, indent=1))
    os.replace(partial, path)


def read_state(path: Path | None = None) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads((path or state_path()).read_text())
    except (OSError, ValueError):
        return None
    return state


def metrics_lines(path: Path | None = None) -> list[str]:
    """Prometheus lines: restarts per supervised process and service (none without `up`)."""
    state = read_state(path)
    if state is None:
        return []
    lines = [
        "# HELP jobmonitor_process_restarts_total Restarts by `jobmonitor up` since it started.",
        "# TYPE jobmonitor_process_restarts_total counter",
    ]
    for kind in ("children", "services"):
        for name, entry in sorted(state.get(kind, {}).items()):
            label = str(name).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(
                f'jobmonitor_process_restarts_total{{process="{label}"}} {entry.get("restarts", 0)}'
            )
    return lines
