"""Find or start the PostgreSQL server Jobmonitor needs.

Given a URL, the server is only checked. Without one, a private cluster is started under the
data directory, on a free loopback port; its data survives restarts. PostgreSQL refuses to run
as root, so as root the private cluster belongs to the `postgres` system user and its commands
run through `runuser`. Missing binaries are installed with apt when running as root on
Debian/Ubuntu.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from backend.settings import normalize_database_url
from cli.services.system import (
    Log,
    ServiceError,
    free_port,
    grant_traverse,
    host_port,
    install_packages,
    log_tail,
    pid_alive,
    port_is_free,
    quiet,
    run_command,
)

PG_USER = "postgres"
PG_DATABASE = "jobmonitor"
PG_PREFERRED_PORT = 54329


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

    @property
    def running(self) -> bool:
        """A private cluster's postmaster is alive (external servers: always True)."""
        return (
            not self.owned
            or self.cluster_dir is None
            or bool(_running_postmaster_port(self.cluster_dir))
        )

    def start_again(self) -> None:
        """Start a private cluster that died (or was stopped) on the same port, so that every
        process holding its URL reconnects to it."""
        if not self.owned or self.cluster_dir is None or self.bin_dir is None or self.running:
            return
        port = urlsplit(self.url).port or PG_PREFERRED_PORT
        user = PG_USER if os.geteuid() == 0 else None
        _pg_start(self.bin_dir, self.cluster_dir.parent, port, user)
        self.started = True  # ours to stop now
        _wait_for_postgres(self.url_for("postgres"), timeout=30)


def check_postgres(url: str, timeout: int = 3) -> None:
    """Raise ServiceError unless PostgreSQL at `url` answers `select 1`."""
    try:
        with psycopg.connect(url, connect_timeout=timeout) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        raise ServiceError(f"PostgreSQL at {host_port(url)} is not reachable: {exc}") from exc


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
        install_packages(["postgresql"], log)
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
        run_command(["useradd", "--system", "--user-group", "--no-create-home", PG_USER])
    return PG_USER


def _prepare_cluster_paths(data_dir: Path, user: str | None, log: Log) -> None:
    """Create the cluster dir, socket dir and log file, owned by PostgreSQL's user."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if user:
        grant_traverse(data_dir / "postgres", user, log)
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
    return port if pid_alive(pid, "postgres") else None


def _initdb(bin_dir: Path, cluster_dir: Path, user: str | None, log: Log) -> None:
    """Create a new cluster with trust auth and a `postgres` superuser."""
    if any(cluster_dir.iterdir()):
        raise ServiceError(f"{cluster_dir} is not empty and holds no PostgreSQL cluster")
    log(f"creating a PostgreSQL cluster in {cluster_dir}")
    initdb = [str(bin_dir / "initdb"), "-D", str(cluster_dir), "--auth=trust", f"-U{PG_USER}"]
    run_command([*initdb, "--encoding=UTF8", "--locale=C"], as_user=user)


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
        run_command([*pg_ctl, "-l", str(log_file), "-o", options], as_user=user)
    except ServiceError as exc:
        raise ServiceError(f"{exc}\nlast lines of {log_file}:\n{log_tail(log_file)}") from exc


def _pg_stop(bin_dir: Path, cluster_dir: Path) -> None:
    """`pg_ctl -m fast stop` the cluster if its postmaster is running."""
    if _running_postmaster_port(cluster_dir) is None:
        return
    user = PG_USER if os.geteuid() == 0 else None
    run_command([str(bin_dir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(cluster_dir)], user)


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


def ensure_postgres(data_dir: Path, url: str | None, log: Log = quiet) -> PostgresHandle:
    """Check the PostgreSQL at `url`, or find or start the private cluster under
    `data_dir/postgres` and make sure database `jobmonitor` exists."""
    if url:
        url = normalize_database_url(url)
        check_postgres(url)
        return PostgresHandle(url=url, owned=False)
    data_dir = data_dir.resolve()
    cluster_dir = data_dir / "postgres"
    bin_dir = _find_or_install_pg_bin(cluster_dir, log)
    port = _running_postmaster_port(cluster_dir)
    started = port is None
    if port is None:
        if not port_is_free(5432):
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


def stop_private_postgres(cluster_dir: Path, log: Log = quiet) -> None:
    """Stop the private cluster in `cluster_dir` if its postmaster runs."""
    bin_dir = find_pg_bin(cluster_dir)
    if bin_dir and _running_postmaster_port(cluster_dir) is not None:
        log(f"stopping private PostgreSQL in {cluster_dir}")
        _pg_stop(bin_dir, cluster_dir)
