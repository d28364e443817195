"""`jobmonitor` on PATH after `scripts/up`: the command lives in the checkout's `.venv/bin`.

`up` either links it as `~/.local/bin/jobmonitor` (`--link-cli`, `JOBMONITOR_LINK_CLI=1`, or a
"y" to its question when it runs in a terminal), or prints the one line that puts it on PATH.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

DECLINED = "cli-link-declined"  # in the data dir: the user said no, do not ask again


@dataclass(frozen=True)
class Where:
    """This installation's `jobmonitor` script and the link that would put it on PATH."""

    script: Path  # e.g. /srv/jobmonitor/.venv/bin/jobmonitor
    link: Path  # ~/.local/bin/jobmonitor

    @property
    def on_path(self) -> bool:
        """`jobmonitor` in this PATH is this installation's (directly or through a link)."""
        found = shutil.which("jobmonitor")
        return found is not None and _same(Path(found), self.script)

    @property
    def linked(self) -> bool:
        return self.link.is_symlink() and _same(self.link, self.script)


def where(home: Path | None = None) -> Where:
    script = Path(sys.executable).parent / "jobmonitor"  # the venv's bin, not resolved
    return Where(script=script, link=(home or Path.home()) / ".local" / "bin" / "jobmonitor")


def make_link(place: Where) -> str | None:
    """Create (or repoint) the link; None when done, else why not (never overwrites a file)."""
    if place.link.exists() and not place.link.is_symlink():
        return f"{place.link} exists and is not a link: left alone"
    try:
        place.link.parent.mkdir(parents=True, exist_ok=True)
        place.link.unlink(missing_ok=True)
        place.link.symlink_to(place.script)
    except OSError as exc:
        return f"could not link {place.link}: {exc}"
    return None


def hint(place: Where) -> str | None:
    """The line that makes `jobmonitor` work in the user's shell; None when it already does."""
    if place.on_path:
        return None
    if place.linked:
        return (
            f"{place.link.parent} is not on your PATH: "
            'export PATH="$HOME/.local/bin:$PATH"  (add it to ~/.profile to keep it)'
        )
    venv_bin = shlex.quote(str(place.script.parent))
    return (
        f"the jobmonitor command: source {venv_bin}/activate  "
        f'(or: export PATH={venv_bin}:"$PATH"; or `scripts/up --link-cli` for a ~/.local/bin link)'
    )


def wanted(flag: bool, data_dir: Path, ask: bool) -> bool:
    """Whether to link: the flag or JOBMONITOR_LINK_CLI; else, in a terminal, the user's answer
    (a "no" is remembered in the data dir); else no."""
    if flag or os.environ.get("JOBMONITOR_LINK_CLI", "").lower() in ("1", "true", "yes"):
        return True
    if not ask or (data_dir / DECLINED).exists():
        return False
    try:
        answer = input("Link jobmonitor into ~/.local/bin so it is on your PATH? [y/N] ")
    except EOFError:
        return False
    if answer.strip().lower() in ("y", "yes"):
        return True
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / DECLINED).touch()
    return False


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or a.samefile(b)
    except OSError:
        return False
