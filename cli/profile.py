"""The login profile: the API URL and token saved by `jobmonitor login`
(`cli/commands/login.py`), so the other commands need neither `--url`/`--token` nor the
environment variables.

Stored at `$XDG_CONFIG_HOME/jobmonitor/profile.json` (default `~/.config/...`), mode 0600 in a
0700 directory, written atomically (a temporary file renamed over the old one).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Profile:
    url: str
    token: str
    workspace: str = ""
    token_name: str = ""
    role: str = ""


def path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "jobmonitor" / "profile.json"


def load() -> Profile | None:
    """The saved profile; None when there is none. A damaged file is an error that says so."""
    file = path()
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ProfileError(
            f"cannot read the profile {file}: {exc}; run `jobmonitor login` again"
        ) from exc
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("url"), str)
        or not isinstance(data.get("token"), str)
    ):
        raise ProfileError(f"the profile {file} has no url and token; run `jobmonitor login` again")
    fields = {k: str(v) for k, v in data.items() if k in Profile.__dataclass_fields__}
    return Profile(**fields)


def save(profile: Profile) -> Path:
    file = path()
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".profile.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(profile), f, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return file


def remove() -> bool:
    try:
        path().unlink()
    except FileNotFoundError:
        return False
    return True


class ProfileError(Exception):
    """The profile file exists but cannot be used."""
