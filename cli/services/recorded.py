"""Where `jobmonitor up`'s private servers are: `<data dir>/servers.env`.

`up` writes the file once its private PostgreSQL and/or Redis answer, and removes it when it
stops them. Every other command reads it (`apply()`, from the CLI's callback) when neither the
environment nor `.env` gives `JOBMONITOR_DATABASE_URL` / `JOBMONITOR_REDIS_URL`, so
`jobmonitor token create`, `migrate`, `seed`, `worker`, ... reach the servers `up` started.

The file is looked for in `$JOBMONITOR_DATA_DIR` (default `./.jobmonitor`), then in the
`.jobmonitor` of the checkout whose `.venv` runs this command (so the `~/.local/bin` link works
from any directory). Only private servers are written (loopback, no password); URLs the user
configured are theirs to pass on. It is a plain `KEY=value` file: `set -a; . .jobmonitor/servers.env`
gives a shell the same settings.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dotenv import dotenv_values

FILE = "servers.env"
KEYS = ("JOBMONITOR_DATABASE_URL", "JOBMONITOR_REDIS_URL")


def path(data_dir: Path) -> Path:
    return data_dir / FILE


def write(data_dir: Path, urls: dict[str, str]) -> Path:
    """Record the private servers' URLs (`KEYS` only), atomically, mode 0600; with none
    (every server configured by the user) there is no file."""
    target = path(data_dir)
    if not any(urls.get(key) for key in KEYS):
        target.unlink(missing_ok=True)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# written by `jobmonitor up` (pid {os.getpid()}); removed when it stops\n"]
    lines += [f"{key}={urls[key]}\n" for key in KEYS if urls.get(key)]
    partial = target.with_name(FILE + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(lines)
    os.replace(partial, target)
    return target


def remove(data_dir: Path) -> None:
    path(data_dir).unlink(missing_ok=True)


def candidates(environ: dict[str, str] | None = None) -> list[Path]:
    """Where the file may be, in order: the data dir, then the venv's checkout's."""
    env = os.environ if environ is None else environ
    found = [path(Path(env.get("JOBMONITOR_DATA_DIR") or ".jobmonitor"))]
    checkout = Path(sys.prefix).parent
    if (checkout / "pyproject.toml").is_file() and not env.get("JOBMONITOR_DATA_DIR"):
        found.append(path(checkout / ".jobmonitor"))
    return found


def read(environ: dict[str, str] | None = None) -> tuple[Path, dict[str, str]] | None:
    """The first servers file found and its URLs, else None."""
    for candidate in candidates(environ):
        if candidate.is_file():
            values = dotenv_values(candidate)
            return candidate, {k: v for k in KEYS if (v := values.get(k))}
    return None


def apply() -> list[str]:
    """Put the recorded URLs into os.environ where no URL is configured; the keys set.

    Runs after `.env` was loaded into the environment (cli.envfile), so a configured URL,
    from either, always wins over the recorded one.
    """
    if all(os.environ.get(key) for key in KEYS):
        return []
    recorded = read()
    if recorded is None:
        return []
    added = []
    for key, value in recorded[1].items():
        if not os.environ.get(key):
            os.environ[key] = value
            added.append(key)
    return added
