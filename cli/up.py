"""`jobmonitor up`: find or start PostgreSQL and Redis, migrate, seed the examples, then run
workers, the reaper and the web app under one supervisor, which starts again whatever exits
(children, and the private PostgreSQL and Redis it started). Only Ctrl-C/SIGTERM stops it:
then every process it started (and the private servers it started) stops, leaving no
orphans. Restart counts: `<data dir>/up-state.json` and /metrics."""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.text import Text

from backend import migrations
from backend.queue import announce_start
from backend.redis_url import redis_from_url
from backend.settings import get_settings, reset_settings
from backend.supervision import state_path
from cli import pathlink
from cli.services import recorded
from cli.services.postgres import ensure_postgres, find_pg_bin
from cli.services.redis import ensure_redis, find_redis_server
from cli.services.system import ServiceError, install_packages
from cli.supervisor import Supervisor
from cli.webapp import exposure_warning, local_url

console = Console(stderr=True, soft_wrap=True)


def run_up(
    port: int, worker_count: int, web: bool = True, host: str = "127.0.0.1", link_cli: bool = False
) -> int:
    settings = get_settings()
    data_dir = Path(settings.data_dir).resolve()
    cli_hint = _put_on_path(link_cli, data_dir)
    try:
        url = settings.database_url.get_secret_value() if settings.database_url else None
        install_missing(data_dir, url, settings.redis_url)
        postgres = ensure_postgres(data_dir, url, log=_say)
        redis = ensure_redis(data_dir, settings.redis_url, log=_say)
    except ServiceError as exc:
        console.print(Text(f"jobmonitor up: {exc}", style="red"))
        return 1
    recorded.write(
        data_dir,
        {
            "JOBMONITOR_DATABASE_URL": postgres.url if postgres.owned else "",
            "JOBMONITOR_REDIS_URL": redis.url if redis.owned else "",
        },
    )
    env = {
        **os.environ,
        "JOBMONITOR_DATABASE_URL": postgres.url,
        "JOBMONITOR_REDIS_URL": redis.url,
        "JOBMONITOR_WORKERS": str(worker_count),  # what doctor compares the live workers with
        "JOBMONITOR_DATA_DIR": str(data_dir),  # one place for every child, whatever its cwd
    }
    os.environ.update(env)
    reset_settings()
    supervisor = Supervisor(state_file=state_path(data_dir))
    if postgres.owned:
        supervisor.watch("postgres", lambda: postgres.running, postgres.start_again)
    if redis.owned:
        supervisor.watch("redis", lambda: redis.running, redis.start_again)
    try:
        return _run(
            supervisor,
            Listen(host, port, cli_hint),
            worker_count,
            web,
            env,
            postgres.url,
            redis.url,
        )
    finally:
        recorded.remove(data_dir)  # the servers stop (or were not ours): nothing to find
        if redis.started:
            redis.stop()
        if postgres.started:
            postgres.stop()


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    cli_hint: str | None = None


def install_missing(data_dir: Path, database_url: str | None, redis_url: str | None) -> None:
    """Install, in one apt-get run, every server package up will need (or say, in one message,
    all that is missing)."""
    missing = []
    if not database_url and find_pg_bin(data_dir / "postgres") is None:
        missing.append("postgresql")
    if not redis_url and find_redis_server() is None:
        missing.append("redis-server")
    if missing:
        install_packages(missing, _say)


def _put_on_path(link_cli: bool, data_dir: Path) -> str | None:
    """Link `jobmonitor` into ~/.local/bin when wanted; the banner's PATH hint (or None)."""
    place = pathlink.where()
    if not place.on_path and not place.linked:
        interactive = sys.stdin.isatty() and sys.stderr.isatty()
        if pathlink.wanted(link_cli, data_dir, ask=interactive):
            problem = pathlink.make_link(place)
            _say(problem or f"linked {place.link} -> {place.script}")
    return pathlink.hint(place)


def _run(
    supervisor: Supervisor,
    listen: Listen,
    worker_count: int,
    web: bool,
    env: dict[str, str],
    db_url: str,
    redis_url: str,
) -> int:
    from backend.workflows.seeding import seed_examples
    from cli.tokens import first_admin_token

    migrations.upgrade(db_url)
    seeded = seed_examples("default")
    token = first_admin_token("default")
    port = listen.port
    me = [sys.executable, "-m", "cli.main"]
    start_id = f"up.{socket.gethostname()}.{os.getpid()}"
    with redis_from_url(redis_url) as redis:  # before they can register: doctor says starting
        announce_start(redis, start_id, worker_count)
    env = {**env, "JOBMONITOR_WORKER_START_ID": start_id}
    supervisor.start("worker", [*me, "worker", "--count", str(worker_count)], env=env)
    supervisor.start("reaper", [*me, "reaper"], env=env)
    supervisor.start("scheduler", [*me, "scheduler"], env=env)  # schedules, triggers, alerts
    if web:
        from cli.webapp import ensure_frontend_toolchain, web_command, web_root

        root = web_root(Path(get_settings().data_dir))  # the checkout, or a dir for a wheel
        ensure_frontend_toolchain(root)
        argv, web_env = web_command(
            port,
            {**env, "JOBMONITOR_URL": local_url(listen.host, port)},
            host=listen.host,
            root=root,
        )
        supervisor.start("web", argv, env=web_env, cwd=str(root))
    _announce(listen, web, worker_count, db_url, redis_url, len(seeded), token)
    return supervisor.run_forever()


def _announce(
    listen: Listen,
    web: bool,
    workers: int,
    db_url: str,
    redis_url: str,
    seeded: int,
    token: str | None,
) -> None:
    base = local_url(listen.host, listen.port)
    console.print(f"[bold]Jobmonitor[/bold]: PostgreSQL {db_url}  Redis {redis_url}")
    warning = exposure_warning(listen.host) if web else None
    if warning:
        console.print(Text(f"  warning: {warning}", style="bold yellow"))
    console.print(
        f"  {seeded} example workflows in workspace 'default'; {workers} workers; reaper and scheduler running"
    )
    if web:
        console.print(
            f"  web monitor  {base}/jobs   (starting: the first build takes a few seconds)"
        )
        console.print(f"  REST API     {base}/api/v1   docs {base}/api/docs")
    if token:
        console.print(f"  [green]admin token (shown once)[/green]: {token}")
        console.print(f"  sign in      {base}/signin?token={token}")
    else:
        console.print(
            "  sign in with your token; make another with: jobmonitor token create --role admin --name me"
        )
    if listen.cli_hint:
        console.print(Text(f"  {listen.cli_hint}"))
    console.print("  Ctrl-C stops everything")


def _say(message: str) -> None:
    console.print(f"[dim]{message}[/dim]")
