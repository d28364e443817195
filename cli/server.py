"""Server-side commands: they run the engine's processes and talk to PostgreSQL directly."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from backend.db import connect
from backend.settings import get_settings
from cli.preflight import servers

console = Console(stderr=True, soft_wrap=True)
Interval = Annotated[float, typer.Option(help="Seconds between passes (default from settings).")]
Once = Annotated[bool, typer.Option(help="One pass, then exit.")]
Host = Annotated[
    str,
    typer.Option(
        envvar="JOBMONITOR_HOST",
        help="Interface the web app listens on (0.0.0.0: every interface; put a TLS proxy in front).",
    ),
]


def register(app: typer.Typer) -> None:
    from cli import tokens

    app.add_typer(tokens.app, name="token")
    app.command(epilog="Example: jobmonitor up --port 3000")(up)
    app.command(epilog="Example: jobmonitor worker --count 4 --simple")(worker)
    app.command(epilog="Example: jobmonitor reaper --interval 2")(reaper)
    app.command(epilog="Example: jobmonitor scheduler --interval 1")(scheduler)
    app.command(epilog="Example: JOBMONITOR_DATABASE_URL=postgresql://... jobmonitor migrate")(
        migrate
    )
    app.command(epilog="Example: jobmonitor seed --workspace default")(seed)
    app.command(epilog="Example: jobmonitor api --port 8000 --workers 4")(api)
    app.command(epilog="Example: jobmonitor web --host 0.0.0.0 --port 3000")(web)


def up(
    port: Annotated[
        int | None,
        typer.Option(
            help="Port of the web app and API (default JOBMONITOR_PORT, 3000).", min=1, max=65535
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="rq worker processes (default JOBMONITOR_WORKERS, 2).", min=1, max=64),
    ] = None,
    no_web: Annotated[bool, typer.Option("--no-web", help="Run without the web app.")] = False,
    host: Host = "127.0.0.1",
    link_cli: Annotated[
        bool,
        typer.Option(
            "--link-cli",
            help="Link `jobmonitor` into ~/.local/bin so it is on PATH (also JOBMONITOR_LINK_CLI=1; "
            "in a terminal up asks once).",
        ),
    ] = False,
) -> None:
    """Start everything: PostgreSQL and Redis (found, or started privately), migrations, the
    example workflows, workers, the reaper and the web app. Ctrl-C stops all of it."""
    from cli.up import run_up

    settings = get_settings()
    raise typer.Exit(
        run_up(
            port or settings.port,
            workers or settings.workers,
            web=not no_web,
            host=host,
            link_cli=link_cli,
        )
    )


def worker(
    count: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    simple: Annotated[
        bool, typer.Option(help="SimpleWorker: run steps in the worker process (no fork).")
    ] = False,
    burst: Annotated[
        bool, typer.Option(help="Stop when the queue is empty (one process, in this one).")
    ] = False,
) -> None:
    """Run rq workers for the step queue (forking Worker by default). SIGTERM: warm shutdown."""
    from workers.process import run_many, run_one

    _configure_logging()
    with servers(redis=True):
        if burst:
            run_one(simple=simple, burst=True)
        else:  # each worker in a child process, replaced if it dies
            run_many(count, simple=simple)


def reaper(
    interval: Interval = 0.0,
    once: Once = False,
) -> None:
    """Recover lost attempts, re-enqueue steps missing from Redis, start due retries."""
    from backend.steps import load_step_modules

    _configure_logging()
    with servers(redis=True):
        load_step_modules(get_settings().step_modules)  # for the snapshots of jobs it ends
        _reap_until_stopped(interval or get_settings().reaper_interval, once)


def _reap_until_stopped(every: float, once: bool) -> None:
    from backend.jobs.reaper import ReapReport, reap_and_record, serve

    def say(report: ReapReport) -> None:
        if report.total:
            console.print(
                f"reaper: {len(report.lost)} lost, {len(report.requeued)} re-enqueued, "
                f"{len(report.retried)} retries started"
            )

    if once:
        with connect(autocommit=True) as conn:
            say(reap_and_record(conn, f"{socket.gethostname()}.{os.getpid()}"))
        return
    serve(_stop_on_signals(), every, say, f"{socket.gethostname()}.{os.getpid()}")


def scheduler(
    interval: Interval = 0.0,
    once: Once = False,
) -> None:
    """Fire due schedules, triggers and continuous workflows. Run one or several: each
    due item is claimed in PostgreSQL, so nothing starts twice."""
    from backend.automation.process import run
    from backend.steps import load_step_modules

    _configure_logging()
    logging.getLogger("jobmonitor.scheduler").setLevel(logging.INFO)
    with servers():
        load_step_modules(get_settings().step_modules)
        run(_stop_on_signals(), interval or get_settings().scheduler_interval, once=once)


def migrate() -> None:
    """Apply the database migrations (alembic upgrade head)."""
    from backend import migrations

    with servers():
        url = get_settings().require_database_url()
        migrations.upgrade(url)
    console.print(f"migrated to {migrations.head_revision(url)}")


def seed(
    workspace: Annotated[
        str, typer.Option(help="Workspace slug (created if missing).")
    ] = "default",
    workspace_id: Annotated[
        str | None,
        typer.Option(help="An existing workspace's id (instead of --workspace)."),
    ] = None,
    project_id: Annotated[
        str | None,
        typer.Option(help="Tag the workflows with this project (default: 'default')."),
    ] = None,
    skip_existing: Annotated[
        bool, typer.Option("--skip-existing", help="Leave workflows that already exist alone.")
    ] = False,
) -> None:
    """Load the example workflows. Idempotent: running it again creates nothing twice. The
    same code as `python -m backend.scripts.seed_workflows`."""
    from backend.errors import JobmonitorError
    from backend.workflows.seeding import seed_examples

    try:
        with servers():
            seeded = seed_examples(
                workspace,
                workspace_id=workspace_id,
                project_id=project_id,
                skip_existing=skip_existing,
            )
    except JobmonitorError as exc:
        console.print(f"error: {exc.message}")
        raise typer.Exit(2) from None
    for item in seeded:
        console.print(item.line())


def api(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.", min=1, max=64)] = 1,
) -> None:
    """Serve the REST API alone (no web app), e.g. to scale it out behind a proxy."""
    from backend.api.serve import serve

    serve(host, port, workers)


def web(
    host: Host = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(help="Port (default JOBMONITOR_PORT, 3000).", min=1, max=65535),
    ] = None,
    build_only: Annotated[
        bool,
        typer.Option(
            "--build-only", help="Fetch the front-end packages and build once, then exit."
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Server processes on the port (default 1; above 1 needs REFLEX_REDIS_URL).",
            min=1,
            max=64,
        ),
    ] = None,
) -> None:
    """Serve the web monitor and the REST API on one port, without workers or a reaper: the
    web tier of a deployment on several hosts (put a TLS proxy in front)."""
    from cli.webapp import serve

    settings = get_settings()
    raise typer.Exit(
        serve(
            port or settings.port,
            host,
            Path(settings.data_dir),
            build_only=build_only,
            workers=workers,
        )
    )


def _stop_on_signals() -> threading.Event:
    """An event SIGTERM and SIGINT set: the loop ends after its current pass."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def _configure_logging() -> None:
    from backend.logs import configure

    configure()
