"""What the service modules need from the machine: free loopback ports, live processes,
commands (as another user), and apt for missing servers. Linux only (/proc)."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

Log = Callable[[str], None]

INSTALL_COMMAND = "sudo apt-get install -y postgresql redis-server"


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


def install_packages(packages: list[str], log: Log) -> None:
    """apt-get install `packages` when root on Debian/Ubuntu; otherwise explain how."""
    if os.geteuid() != 0 or not Path("/etc/debian_version").exists():
        raise ServiceError(
            f"{' and '.join(packages)} not found. Install it, then retry:\n    {INSTALL_COMMAND}\n"
            "(or point JOBMONITOR_DATABASE_URL / JOBMONITOR_REDIS_URL at running servers)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log(f"installing {' '.join(packages)} with apt-get (once; may take a minute)")
    run_command(["apt-get", "-q", "update"], env=env)
    run_command(["apt-get", "-q", "install", "-y", *packages], env=env)
