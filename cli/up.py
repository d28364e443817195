"""`jobmonitor up`: find or start PostgreSQL and Redis, migrate, seed the examples, then run
workers, the reaper and the web app under one supervisor, which starts again whatever exits
(children, and the private PostgreSQL and Redis it started). Only Ctrl-C/SIGTERM stops it:
then every process it started (and the private servers it started) stops, leaving no
orphans. Restart counts: `<data dir>/up-state.json` and /metrics."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from rich.console import Console

from backend import migrations
from backend.queue import announce_start
from backend.redis_url import redis_from_url
from backend.settings import get_settings, reset_settings
from backend.supervision import state_path
from cli.services.postgres import ensure_postgres
from cli.services.redis import ensure_redis
from cli.services.system import ServiceError
from cli.supervisor import Supervisor

console = Console(stderr=True, soft_wrap=True)


def run_up(port: int, worker_count: int, web: bool = True) -> int:
    settings = get_settings()
    data_dir = Path(settings.data_dir).resolve()
    try:
        url = settings.database_url.get_secret_value() if settings.database_url else None
        postgres = ensure_postgres(data_dir, url, log=_say)
        redis = ensure_redis(data_dir, settings.redis_url, log=_say)
    except ServiceError as exc:
        console.print(f"[red]jobmonitor up: {exc}[/red]")
        return 1
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
        return _run(supervisor, port, worker_count, web, env, postgres.url, redis.url)
    finally:
        if redis.started:
            redis.stop()
        if postgres.started:
            postgres.stop()


def _run(
    supervisor: Supervisor,
    port: int,
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
            port, {**env, "JOBMONITOR_URL": f"http://127.0.0.1:{port}"}, root=root
        )
        supervisor.start("web", argv, env=web_env, cwd=str(root))
    _announce(port, web, worker_count, db_url, redis_url, len(seeded), token)
    return supervisor.run_forever()


def _announce(
    port: int, web: bool, workers: int, db_url: str, redis_url: str, seeded: int, token: str | None
) -> None:
    base = f"http://127.0.0.1:{port}"
    console.print(f"[bold]Jobmonitor[/bold]: PostgreSQL {db_url}  Redis {redis_url}")
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
    console.print("  Ctrl-C stops everything")


def _say(message: str) -> None:
    console.print(f"[dim]{message}[/dim]")
