"""Server-side commands: they run the engine's processes and talk to PostgreSQL directly."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from backend.db import connect
from backend.settings import get_settings

console = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    from cli import tokens

    app.add_typer(tokens.app, name="token")
    app.command(epilog="Example: jobmonitor up --port 3000")(up)
    app.command(epilog="Example: jobmonitor worker --count 4 --simple")(worker)
    app.command(epilog="Example: jobmonitor reaper --interval 2")(reaper)
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
) -> None:
    """Start everything: PostgreSQL and Redis (found, or started privately), migrations, the
    example workflows, workers, the reaper and the web app. Ctrl-C stops all of it."""
    from cli.up import run_up

    settings = get_settings()
    raise typer.Exit(run_up(port or settings.port, workers or settings.workers, web=not no_web))


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
    if burst:
        run_one(simple=simple, burst=True)
    else:  # each worker in a child process, replaced if it dies
        run_many(count, simple=simple)


def reaper(
    interval: Annotated[
        float, typer.Option(help="Seconds between passes (default from settings).")
    ] = 0.0,
    once: Annotated[bool, typer.Option(help="One pass, then exit.")] = False,
) -> None:
    """Recover lost attempts, re-enqueue steps missing from Redis, start due retries."""
    from backend.jobs.reaper import ReapReport, reap, serve
    from backend.steps import load_step_modules

    _configure_logging()
    load_step_modules(get_settings().step_modules)  # for the snapshots of jobs it ends
    every = interval or get_settings().reaper_interval

    def say(report: ReapReport) -> None:
        if report.total:
            console.print(
                f"reaper: {len(report.lost)} lost, {len(report.requeued)} re-enqueued, "
                f"{len(report.retried)} retries started"
            )

    if once:
        with connect(autocommit=True) as conn:
            say(reap(conn))
        return
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serve(stop, every, say)


def migrate() -> None:
    """Apply the database migrations (alembic upgrade head)."""
    from backend import migrations

    url = get_settings().require_database_url()
    migrations.upgrade(url)
    console.print(f"migrated to {migrations.head_revision(url)}")


def seed(
    workspace: Annotated[
        str, typer.Option(help="Workspace slug (created if missing).")
    ] = "default",
) -> None:
    """Load the example workflows. Idempotent: running it again creates nothing twice."""
    for name, created in seed_examples(workspace):
        console.print(f"{'registered' if created else 'unchanged '} {name}")


def seed_examples(workspace: str) -> list[tuple[str, bool]]:
    from backend.auth.service import create_workspace_if_missing
    from backend.steps import load_step_modules
    from backend.workflows.definition import load_document
    from backend.workflows.service import register_workflow
    from examples import workflow_files

    load_step_modules(get_settings().step_modules)
    results = []
    with connect() as conn, conn.transaction():
        workspace_id = create_workspace_if_missing(conn, workspace)[0]["id"]
        for path in workflow_files():
            document = load_document(Path(path).read_text(), str(path))
            registered = register_workflow(conn, workspace_id, document)
            results.append((document["name"], registered.created))
    return results


def api(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.", min=1, max=64)] = 1,
) -> None:
    """Serve the REST API alone (no web app), e.g. to scale it out behind a proxy."""
    from backend.api.serve import serve

    serve(host, port, workers)


def web(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
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
) -> None:
    """Serve the web monitor and the REST API on one port, without workers or a reaper: the
    web tier of a deployment on several hosts (put a TLS proxy in front)."""
    from cli.webapp import serve

    settings = get_settings()
    raise typer.Exit(
        serve(port or settings.port, host, Path(settings.data_dir), build_only=build_only)
    )


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
