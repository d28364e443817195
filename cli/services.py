"""Find or start the PostgreSQL and Redis servers Jobmonitor needs.

Given a URL, a server is only checked. Without one, a private server is started
under the data directory, on a free loopback port; its data survives restarts.
Missing binaries are installed with apt when running as root on Debian/Ubuntu.

PostgreSQL refuses to run as root, so as root the private cluster belongs to the
`postgres` system user and its commands run through `runuser`. Linux only (/proc).

`python -m cli.services test-env` prints `export` lines for the test suite, and
`python -m cli.services stop-private DIR` stops the private servers under DIR.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

Log = Callable[[str], None]

PG_USER = "postgres"
PG_DATABASE = "jobmonitor"
PG_PREFERRED_PORT = 54329
REDIS_PREFERRED_PORT = 63799
INSTALL_COMMAND = "sudo apt-get install -y postgresql redis-server"
TEST_DATABASE_KEY = "JOBMONITOR_TEST_DATABASE_URL"
TEST_REDIS_KEY = "JOBMONITOR_TEST_REDIS_URL"
DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379"
DEFAULT_TEST_DATA_DIR = Path(".jobmonitor/test")


class ServiceError(RuntimeError):
    """A server could not be found, installed or started."""


def _quiet(_message: str) -> None:
    """Default logger: say nothing."""


@dataclass
class PostgresHandle:
    """A PostgreSQL database. `owned`: a private cluster under our data dir;
    `started`: this call started it (rather than finding it running)."""

    url: str
    owned: bool
    started: bool = False
    cluster_dir: Path | None = None
    bin_dir: Path | None = None

    def url_for(self, database: str) -> str:
        """The same server's URL, pointing at another database."""
        return urlunsplit(urlsplit(self.url)._replace(path="/" + database))

    def stop(self) -> None:
        """Stop the private cluster (`pg_ctl -m fast stop`); no-op for external servers."""
        if self.owned and self.cluster_dir and self.bin_dir:
            _pg_stop(self.bin_dir, self.cluster_dir)


@dataclass
class RedisHandle:
    """A Redis server. `process` is set when this call started it as a child."""

    url: str
    owned: bool
    started: bool = False
    process: subprocess.Popen[bytes] | None = None
    pid: int | None = None

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the private redis-server (SIGTERM, then SIGKILL); no-op if external."""
        if self.owned and self.pid is not None:
            _terminate_group(self.pid, timeout)
        if self.process is not None:
            self.process.wait()


# --------------------------------------------------------------------------- helpers


def _where(url: str) -> str:
    """host:port of a URL, for messages (never the password)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 'default port'}"


def _port_is_free(port: int) -> bool:
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
    if _port_is_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pid_alive(pid: int, name: str = "") -> bool:
    """True when process `pid` exists, is not a zombie and its command line has `name`."""
    proc = Path(f"/proc/{pid}")
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, IndexError):
        return False
    return state != "Z" and name.encode() in cmdline


def _terminate_group(pid: int, timeout: float) -> None:
    """SIGTERM the process group led by `pid`, wait until `pid` is gone, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            time.sleep(0.05)


def _tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def _run(argv: list[str], as_user: str | None = None, env: dict[str, str] | None = None) -> str:
    """Run a command (as `as_user` through runuser); return its output or raise ServiceError."""
    cmd = ["runuser", "-u", as_user, "--", *argv] if as_user else argv
    result = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd="/", env=env
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise ServiceError(f"command failed ({result.returncode}): {shlex.join(cmd)}\n{output}")
    return result.stdout


def _install_packages(packages: list[str], log: Log) -> None:
    """apt-get install `packages` when root on Debian/Ubuntu; otherwise explain how."""
    if os.geteuid() != 0 or not Path("/etc/debian_version").exists():
        raise ServiceError(
            f"{' and '.join(packages)} not found. Install it, then retry:\n    {INSTALL_COMMAND}\n"
            "(or point JOBMONITOR_DATABASE_URL / JOBMONITOR_REDIS_URL at running servers)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log(f"installing {' '.join(packages)} with apt-get (once; may take a minute)")
    _run(["apt-get", "-q", "update"], env=env)
    _run(["apt-get", "-q", "install", "-y", *packages], env=env)


# --------------------------------------------------------------------------- PostgreSQL


def check_postgres(url: str, timeout: int = 3) -> None:
    """Raise ServiceError unless PostgreSQL at `url` answers `select 1`."""
    try:
        with psycopg.connect(url, connect_timeout=timeout) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        raise ServiceError(f"PostgreSQL at {_where(url)} is not reachable: {exc}") from exc


def find_pg_bin(cluster_dir: Path | None = None) -> Path | None:
    """The directory holding initdb/pg_ctl/postgres: the one matching an existing
    cluster's PG_VERSION, else PATH's, else the highest /usr/lib/postgresql/*/bin."""
    debian = sorted(
        (p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")),
        key=lambda d: tuple(int(n) for n in d.parent.name.split(".") if n.isdigit()),
    )
    version_file = cluster_dir / "PG_VERSION" if cluster_dir else None
    if version_file and version_file.exists():
        wanted = version_file.read_text().strip()
        matching = [d for d in debian if d.parent.name == wanted]
        if matching:
            return matching[-1]
    on_path = shutil.which("pg_ctl")
    if on_path and (Path(on_path).resolve().parent / "initdb").exists():
        return Path(on_path).resolve().parent
    return debian[-1] if debian else None


def _find_or_install_pg_bin(cluster_dir: Path, log: Log) -> Path:
    """The PostgreSQL bin dir, installing the `postgresql` package if needed."""
    bin_dir = find_pg_bin(cluster_dir)
    if bin_dir is None:
        _install_packages(["postgresql"], log)
        bin_dir = find_pg_bin(cluster_dir)
    if bin_dir is None:
        raise ServiceError("PostgreSQL was installed but initdb/pg_ctl were not found")
    return bin_dir


def _pg_system_user(log: Log) -> str | None:
    """None when not root; as root, the `postgres` system user (created if missing)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        log(f"creating system user {PG_USER}")
        _run(["useradd", "--system", "--user-group", "--no-create-home", PG_USER])
    return PG_USER


def _grant_traverse(path: Path, log: Log) -> None:
    """Let other users traverse (not list) every ancestor of `path`, so the postgres
    user can reach its cluster (e.g. under /root or pytest's 0700 temp dirs)."""
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            log(f"adding o+x to {parent} so the {PG_USER} user can reach {path}")
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _prepare_cluster_paths(data_dir: Path, user: str | None, log: Log) -> None:
    """Create the cluster dir, socket dir and log file, owned by PostgreSQL's user."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if user:
        _grant_traverse(data_dir / "postgres", log)
    (data_dir / "postgres").mkdir(mode=0o700, exist_ok=True)
    (data_dir / "postgres-run").mkdir(mode=0o755, exist_ok=True)
    (data_dir / "postgres.log").touch()
    if user:
        entry = pwd.getpwnam(user)
        for name in ("postgres", "postgres-run", "postgres.log"):
            os.chown(data_dir / name, entry.pw_uid, entry.pw_gid)


def _running_postmaster_port(cluster_dir: Path) -> int | None:
    """The port of the cluster's live postmaster (from postmaster.pid), else None."""
    try:
        lines = (cluster_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, IndexError, ValueError):
        return None
    return port if _pid_alive(pid, "postgres") else None


def _initdb(bin_dir: Path, cluster_dir: Path, user: str | None, log: Log) -> None:
    """Create a new cluster with trust auth and a `postgres` superuser."""
    if any(cluster_dir.iterdir()):
        raise ServiceError(f"{cluster_dir} is not empty and holds no PostgreSQL cluster")
    log(f"creating a PostgreSQL cluster in {cluster_dir}")
    initdb = [str(bin_dir / "initdb"), "-D", str(cluster_dir), "--auth=trust", f"-U{PG_USER}"]
    _run([*initdb, "--encoding=UTF8", "--locale=C"], as_user=user)


def _pg_start(bin_dir: Path, data_dir: Path, port: int, user: str | None) -> None:
    """`pg_ctl -w start` the cluster on 127.0.0.1:port."""
    socket_dir = str(data_dir / "postgres-run")
    if len(socket_dir) > 90:  # Unix socket paths are limited to 107 bytes: TCP only
        socket_dir = ""
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1"
        f" -c unix_socket_directories={shlex.quote(socket_dir)}"
    )
    log_file = data_dir / "postgres.log"
    pg_ctl = [str(bin_dir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data_dir / "postgres")]
    try:
        _run([*pg_ctl, "-l", str(log_file), "-o", options], as_user=user)
    except ServiceError as exc:
        raise ServiceError(f"{exc}\nlast lines of {log_file}:\n{_tail(log_file)}") from exc


def _pg_stop(bin_dir: Path, cluster_dir: Path) -> None:
    """`pg_ctl -m fast stop` the cluster if its postmaster is running."""
    if _running_postmaster_port(cluster_dir) is None:
        return
    user = PG_USER if os.geteuid() == 0 else None
    _run([str(bin_dir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(cluster_dir)], user)


def _wait_for_postgres(url: str, timeout: float) -> None:
    """Wait until PostgreSQL at `url` answers, or raise ServiceError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check_postgres(url, timeout=2)
            return
        except ServiceError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _create_database(maintenance_url: str, name: str, log: Log) -> None:
    """CREATE DATABASE `name` unless it exists."""
    with psycopg.connect(maintenance_url, autocommit=True, connect_timeout=3) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not found:
            log(f"creating database {name}")
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def ensure_postgres(data_dir: Path, url: str | None, log: Log = _quiet) -> PostgresHandle:
    """Check the PostgreSQL at `url`, or find or start the private cluster under
    `data_dir/postgres` and make sure database `jobmonitor` exists."""
    if url:
        check_postgres(url)
        return PostgresHandle(url=url, owned=False)
    data_dir = data_dir.resolve()
    cluster_dir = data_dir / "postgres"
    bin_dir = _find_or_install_pg_bin(cluster_dir, log)
    port = _running_postmaster_port(cluster_dir)
    started = port is None
    if port is None:
        if not _port_is_free(5432):
            log("a server listens on 127.0.0.1:5432: not using it (set JOBMONITOR_DATABASE_URL)")
        user = _pg_system_user(log)
        _prepare_cluster_paths(data_dir, user, log)
        if not (cluster_dir / "PG_VERSION").exists():
            _initdb(bin_dir, cluster_dir, user, log)
        port = free_port(PG_PREFERRED_PORT)
        log(f"starting private PostgreSQL on 127.0.0.1:{port} (data in {cluster_dir})")
        _pg_start(bin_dir, data_dir, port, user)
    else:
        log(f"reusing the running private PostgreSQL on 127.0.0.1:{port}")
    handle = PostgresHandle(
        url=f"postgresql://{PG_USER}@127.0.0.1:{port}/{PG_DATABASE}",
        owned=True,
        started=started,
        cluster_dir=cluster_dir,
        bin_dir=bin_dir,
    )
    _wait_for_postgres(handle.url_for("postgres"), timeout=30)
    _create_database(handle.url_for("postgres"), PG_DATABASE, log)
    return handle


# --------------------------------------------------------------------------- Redis


def check_redis(url: str, timeout: float = 3) -> None:
    """Raise ServiceError unless Redis at `url` answers PING."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ServiceError(f"Redis at {_where(url)} is not reachable: {exc}") from exc
    finally:
        client.close()


def _find_or_install_redis(log: Log) -> str:
    """Path of redis-server, installing the `redis-server` package if needed."""
    search = f"{os.environ.get('PATH', '')}:/usr/bin:/usr/sbin"
    found = shutil.which("redis-server", path=search)
    if found is None:
        _install_packages(["redis-server"], log)
        found = shutil.which("redis-server", path=search)
    if found is None:
        raise ServiceError("redis-server was installed but was not found")
    return found


def _running_private_redis(redis_dir: Path) -> tuple[int, int] | None:
    """(pid, port) of a live redis-server started earlier in `redis_dir`, else None."""
    try:
        pid = int((redis_dir / "redis.pid").read_text().strip())
        port = int((redis_dir / "port").read_text().strip())
        if _pid_alive(pid, "redis-server"):
            check_redis(f"redis://127.0.0.1:{port}", timeout=1)
            return pid, port
    except (OSError, ValueError, ServiceError):
        pass
    return None


def _start_redis(binary: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """Start redis-server as a child in its own process group, logging to a file."""
    redis_dir = data_dir / "redis"
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(redis_dir)]
    argv += ["--appendonly", "yes", "--daemonize", "no", "--pidfile", str(redis_dir / "redis.pid")]
    with open(data_dir / "redis.log", "ab") as log_file:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


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


def ensure_redis(data_dir: Path, url: str | None, log: Log = _quiet) -> RedisHandle:
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
        return RedisHandle(url=f"redis://127.0.0.1:{running[1]}", owned=True, pid=running[0])
    binary = _find_or_install_redis(log)
    redis_dir.mkdir(parents=True, exist_ok=True)
    port = free_port(REDIS_PREFERRED_PORT)
    log(f"starting private Redis on 127.0.0.1:{port} (data in {redis_dir})")
    process = _start_redis(binary, data_dir, port)
    (redis_dir / "port").write_text(f"{port}\n")
    url = f"redis://127.0.0.1:{port}"
    handle = RedisHandle(url=url, owned=True, started=True, process=process, pid=process.pid)
    try:
        _wait_for_redis(handle, process, timeout=15)
    except ServiceError as exc:
        log_file = data_dir / "redis.log"
        raise ServiceError(f"{exc}\nlast lines of {log_file}:\n{_tail(log_file)}") from exc
    return handle


# --------------------------------------------------------------------------- tests


def _default_postgres_usable(url: str) -> bool:
    """True when `url` answers and its user may CREATE DATABASE."""
    query = "select rolsuper or rolcreatedb from pg_roles where rolname = current_user"
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            row = conn.execute(query).fetchone()
    except psycopg.Error:
        return False
    return bool(row and row[0])


def test_env(data_dir: Path = DEFAULT_TEST_DATA_DIR, log: Log = _quiet) -> dict[str, str]:
    """Env vars for the test suite: a PostgreSQL maintenance URL (the tests may
    CREATE DATABASE there) and a Redis base URL. Variables already set win, then
    servers on the default ports, then private servers under `data_dir`, which keep
    running until `stop_private(data_dir)` (scripts/test calls it at exit)."""
    database_url = os.environ.get(TEST_DATABASE_KEY)
    if not database_url and _default_postgres_usable(DEFAULT_TEST_DATABASE_URL):
        database_url = DEFAULT_TEST_DATABASE_URL
    if not database_url:
        database_url = ensure_postgres(data_dir, None, log).url_for("postgres")
    redis_url = os.environ.get(TEST_REDIS_KEY)
    if not redis_url:
        try:
            check_redis(DEFAULT_TEST_REDIS_URL)
            redis_url = DEFAULT_TEST_REDIS_URL
        except ServiceError:
            redis_url = ensure_redis(data_dir, None, log).url
    return {TEST_DATABASE_KEY: database_url, TEST_REDIS_KEY: redis_url}


test_env.__test__ = False  # type: ignore[attr-defined]  # tell pytest it is not a test


def stop_private(data_dir: Path, log: Log = _quiet) -> None:
    """Stop the private PostgreSQL and Redis under `data_dir`, if they run."""
    data_dir = data_dir.resolve()
    cluster_dir = data_dir / "postgres"
    bin_dir = find_pg_bin(cluster_dir)
    if bin_dir and _running_postmaster_port(cluster_dir) is not None:
        log(f"stopping private PostgreSQL in {cluster_dir}")
        _pg_stop(bin_dir, cluster_dir)
    running = _running_private_redis(data_dir / "redis")
    if running:
        log(f"stopping private Redis in {data_dir / 'redis'}")
        _terminate_group(running[0], timeout=10)


def _stderr(message: str) -> None:
    """Logger for the command line: messages go to stderr (stdout is for `eval`)."""
    sys.stderr.write(f"services: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """`python -m cli.services test-env [--data-dir DIR] | stop-private DIR`."""
    parser = argparse.ArgumentParser(prog="python -m cli.services", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    env_cmd = commands.add_parser("test-env", help="print `export` lines for the tests")
    env_cmd.add_argument("--data-dir", type=Path, default=DEFAULT_TEST_DATA_DIR)
    stop_cmd = commands.add_parser("stop-private", help="stop the private servers under DIR")
    stop_cmd.add_argument("data_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "test-env":
            for key, value in test_env(args.data_dir, _stderr).items():
                sys.stdout.write(f"export {key}={shlex.quote(value)}\n")
        else:
            stop_private(args.data_dir, _stderr)
    except ServiceError as exc:
        _stderr(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
