"""Find or start the Redis server Jobmonitor needs.

Given a URL, the server is only checked. Without one, a private redis-server is started as a
child in its own process group, on a free loopback port, with its append-only data under the
data directory. A missing redis-server is installed with apt when running as root on
Debian/Ubuntu.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from backend.redis_url import describe, redis_from_url
from cli.services.system import (
    Log,
    ServiceError,
    free_port,
    grant_traverse,
    install_packages,
    log_tail,
    pid_alive,
    quiet,
    run_command,
    terminate_group,
)

REDIS_PREFERRED_PORT = 63799
REDIS_USER = "redis"


@dataclass
class RedisHandle:
    """A Redis server. `process` is set when this call started it as a child."""

    url: str
    owned: bool
    started: bool = False
    process: subprocess.Popen[bytes] | None = None
    pid: int | None = None
    data_dir: Path | None = None  # a private server's, for start_again()

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the private redis-server (SIGTERM, then SIGKILL); no-op if external."""
        if self.owned and self.pid is not None:
            terminate_group(self.pid, timeout)
        if self.process is not None:
            self.process.wait()

    @property
    def running(self) -> bool:
        """A private server's process is alive (external servers: always True)."""
        return not self.owned or (self.pid is not None and pid_alive(self.pid, "redis-server"))

    def start_again(self) -> None:
        """Start a private redis-server that died (or was stopped) again on the same port and
        with the same data, so that every process holding its URL reconnects to it."""
        if not self.owned or self.data_dir is None or self.running:
            return
        if self.process is not None:
            self.process.poll()  # reap the dead one
        port = int(self.url.rsplit(":", 1)[1].split("/", 1)[0])
        process = _start_redis(_find_or_install_redis(quiet), self.data_dir, port)
        self.process, self.pid, self.started = process, process.pid, True
        _wait_for_redis(self, process, timeout=15)


def check_redis(url: str, timeout: float = 3) -> None:
    """Raise ServiceError unless Redis at `url` answers PING."""
    client = redis_from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ServiceError(f"{describe(url)} is not reachable: {exc}") from exc
    finally:
        client.close()


def find_redis_server() -> str | None:
    """Path of redis-server on PATH (or in /usr/bin, /usr/sbin), else None."""
    return shutil.which("redis-server", path=f"{os.environ.get('PATH', '')}:/usr/bin:/usr/sbin")


def redis_user(log: Log = quiet) -> str | None:
    """The user a private redis-server runs as: None (ourselves) unless we are root; as root
    the `redis` system user the Debian package creates (created here if missing): never root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(REDIS_USER)
    except KeyError:
        log(f"creating system user {REDIS_USER}")
        run_command(["useradd", "--system", "--user-group", "--no-create-home", REDIS_USER])
    return REDIS_USER


def _find_or_install_redis(log: Log) -> str:
    """Path of redis-server, installing the `redis-server` package if needed."""
    found = find_redis_server()
    if found is None:
        install_packages(["redis-server"], log)
        found = find_redis_server()
    if found is None:
        raise ServiceError("redis-server was installed but was not found")
    return found


def _running_private_redis(redis_dir: Path) -> tuple[int, int] | None:
    """(pid, port) of a live redis-server started earlier in `redis_dir`, else None."""
    try:
        pid = int((redis_dir / "redis.pid").read_text().strip())
        port = int((redis_dir / "port").read_text().strip())
        if pid_alive(pid, "redis-server"):
            check_redis(f"redis://127.0.0.1:{port}", timeout=1)
            return pid, port
    except (OSError, ValueError, ServiceError):
        pass
    return None


def _start_redis(
    binary: str, data_dir: Path, port: int, log: Log = quiet
) -> subprocess.Popen[bytes]:
    """Start redis-server as a child in its own process group, logging to a file; as root, as
    the `redis` user (subprocess switches user before exec: the child is redis-server itself,
    so its pid is the one in redis.pid and leads its process group)."""
    redis_dir = data_dir / "redis"
    user = redis_user(log)
    if user:
        _own(data_dir, user, log)
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(redis_dir)]
    argv += ["--appendonly", "yes", "--daemonize", "no", "--pidfile", str(redis_dir / "redis.pid")]
    with open(data_dir / "redis.log", "ab") as log_file:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd="/",
            user=user,
            group=user,
            extra_groups=[] if user else None,
        )


def _own(data_dir: Path, user: str, log: Log) -> None:
    """Give `user` the redis dir (and what an earlier root-run server left in it) and the log."""
    redis_dir = data_dir / "redis"
    grant_traverse(redis_dir, user, log)
    redis_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "redis.log").touch()
    entry = pwd.getpwnam(user)
    for path in [data_dir / "redis.log", redis_dir, *redis_dir.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _wait_for_redis(handle: RedisHandle, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until the new redis-server answers PING; stop it and raise if it does not."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check_redis(handle.url, timeout=1)
            return
        except ServiceError:
            if process.poll() is not None or time.monotonic() > deadline:
                handle.stop()
                raise
            time.sleep(0.05)


def ensure_redis(data_dir: Path, url: str | None, log: Log = quiet) -> RedisHandle:
    """Check the Redis at `url`, or find or start a private redis-server whose
    append-only data lives in `data_dir/redis`."""
    if url:
        check_redis(url)
        return RedisHandle(url=url, owned=False)
    data_dir = data_dir.resolve()
    redis_dir = data_dir / "redis"
    running = _running_private_redis(redis_dir)
    if running:
        log(f"reusing the running private Redis on 127.0.0.1:{running[1]}")
        url = f"redis://127.0.0.1:{running[1]}"
        return RedisHandle(url=url, owned=True, pid=running[0], data_dir=data_dir)
    binary = _find_or_install_redis(log)
    redis_dir.mkdir(parents=True, exist_ok=True)
    port = free_port(REDIS_PREFERRED_PORT)
    log(f"starting private Redis on 127.0.0.1:{port} (data in {redis_dir})")
    process = _start_redis(binary, data_dir, port, log)
    (redis_dir / "port").write_text(f"{port}\n")
    url = f"redis://127.0.0.1:{port}"
    handle = RedisHandle(
        url=url, owned=True, started=True, process=process, pid=process.pid, data_dir=data_dir
    )
    try:
        _wait_for_redis(handle, process, timeout=15)
    except ServiceError as exc:
        log_file = data_dir / "redis.log"
        raise ServiceError(f"{exc}\nlast lines of {log_file}:\n{log_tail(log_file)}") from exc
    return handle


def stop_private_redis(redis_dir: Path, log: Log = quiet) -> None:
    """Stop the private redis-server started earlier in `redis_dir`, if it runs."""
    running = _running_private_redis(redis_dir)
    if running:
        log(f"stopping private Redis in {redis_dir}")
        terminate_group(running[0], timeout=10)
