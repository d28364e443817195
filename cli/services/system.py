"""What the service modules need from the machine: free loopback ports, live processes,
commands (as another user), and apt for missing servers. Linux only (/proc)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

Log = Callable[[str], None]


class ServiceError(RuntimeError):
    """A server could not be found, installed or started."""


def quiet(_message: str) -> None:
    """Default logger: say nothing."""


def host_port(url: str) -> str:
    """host:port of a URL, for messages (never the password)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 'default port'}"


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(preferred: int) -> int:
    """`preferred` if it is free on loopback, else any free loopback port."""
    if port_is_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int, name: str = "") -> bool:
    """True when process `pid` exists, is not a zombie and its command line has `name`."""
    proc = Path(f"/proc/{pid}")
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, IndexError):
        return False
    return state != "Z" and name.encode() in cmdline


def terminate_group(pid: int, timeout: float) -> None:
    """SIGTERM the process group led by `pid`, wait until `pid` is gone, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.05)


def log_tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def run_command(
    argv: list[str], as_user: str | None = None, env: dict[str, str] | None = None
) -> str:
    """Run a command (as `as_user` through runuser); return its output or raise ServiceError."""
    cmd = ["runuser", "-u", as_user, "--", *argv] if as_user else argv
    result = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd="/", env=env
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise ServiceError(f"command failed ({result.returncode}): {shlex.join(cmd)}\n{output}")
    return result.stdout


# The Debian packages' own services: installing a package must not start or enable them (up
# runs private servers), so apt runs under a policy-rc.d that refuses starts, and the units
# are disabled afterwards.
SERVICES = {"postgresql": "postgresql", "redis-server": "redis-server"}
POLICY_RC_D = "/usr/sbin/policy-rc.d"  # invoke-rc.d and deb-systemd-invoke ask it first
_INSTALL_SCRIPT = """set -e
created=0
if [ ! -e "$POLICY_RC_D" ]; then
  printf '#!/bin/sh\\nexit 101\\n' >"$POLICY_RC_D" && chmod 755 "$POLICY_RC_D"
  created=1
fi
trap 'if [ "$created" = 1 ]; then rm -f "$POLICY_RC_D"; fi' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get -q update
apt-get -q install -y "$@"
for unit in $JOBMONITOR_DISABLE; do
  if [ -d /run/systemd/system ]; then systemctl disable --now "$unit" || true
  elif command -v update-rc.d >/dev/null; then update-rc.d "$unit" disable || true; fi
done
"""


def missing_packages_message(packages: list[str], why: str = "") -> str:
    """One message for an administrator: every missing package, one command."""
    names = sorted(dict.fromkeys(packages))
    return (
        f"missing system packages: {', '.join(names)}{f' ({why})' if why else ''}. "
        "Root is needed to install them; ask an administrator to run, once:\n"
        f"    sudo apt-get install -y {' '.join(names)}\n"
        "then run this again (or point JOBMONITOR_DATABASE_URL / JOBMONITOR_REDIS_URL at "
        "running servers)"
    )


def root_command() -> list[str] | None:
    """[] when root, ["sudo"] (["sudo", "-n"] without a terminal) when sudo exists, else None."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") is None:
        return None
    return ["sudo"] if sys.stdin.isatty() else ["sudo", "-n"]


def install_packages(packages: list[str], log: Log) -> None:
    """apt-get install `packages` (as root, or through sudo) on Debian/Ubuntu, without
    starting or enabling their services; otherwise one message that lists all of them."""
    as_root = root_command()
    if as_root is None or not Path("/etc/debian_version").exists():
        raise ServiceError(missing_packages_message(packages))
    disable = " ".join(SERVICES[p] for p in packages if p in SERVICES)
    log(
        f"installing {' '.join(packages)} with apt-get (once; may take a minute); "
        f"their system services stay stopped and disabled: up runs its own servers"
    )
    settings = [f"JOBMONITOR_DISABLE={disable}", f"POLICY_RC_D={POLICY_RC_D}"]
    argv = [*as_root, "env", *settings, "sh", "-c", _INSTALL_SCRIPT, "sh"]
    try:
        run_command([*argv, *packages])
    except ServiceError as exc:
        if as_root:  # sudo refused (no terminal for its password, or not allowed)
            raise ServiceError(f"{missing_packages_message(packages)}\n({exc})") from exc
        raise


def grant_traverse(path: Path, user: str, log: Log) -> None:
    """Let other users traverse (not list) every ancestor of `path`, so `user` can reach it
    (e.g. under /root or pytest's 0700 temp dirs)."""
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            log(f"adding o+x to {parent} so the {user} user can reach {path}")
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
