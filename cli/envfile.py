"""`.env` for every command: the server-side ones read it through the settings
(pydantic-settings), and the client commands' options (`--url`/JOBMONITOR_URL,
`--token`/JOBMONITOR_TOKEN) read the environment, so the file's `JOBMONITOR_*` lines are put
there first. The environment wins over the file, as it does for the settings."""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values

PREFIX = "JOBMONITOR_"


def load(path: Path = Path(".env")) -> list[str]:
    """Set the file's JOBMONITOR_* variables that the environment does not have; their names."""
    if not path.is_file():
        return []
    added = []
    for key, value in dotenv_values(path).items():
        if key.upper().startswith(PREFIX) and key not in os.environ and value is not None:
            os.environ[key] = value
            added.append(key)
    return added
