"""`jobmonitor workflows [show NAME | register FILE | validate FILE]`. `validate` works offline:
it runs the server's own definition checks and lists every problem with its path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli import output
from cli.commands.common import Json, Token, Url, client

app = typer.Typer(
    help="List, show, register and validate workflow definitions.",
    epilog="""Examples:

  jobmonitor workflows

  jobmonitor workflows show data_pipeline

  jobmonitor workflows validate pipeline.yaml   (offline)

  jobmonitor workflows register pipeline.yaml   (admin token)
""",
    invoke_without_command=True,
)
File = Annotated[
    Path, typer.Argument(help="A workflow definition, JSON or YAML.", show_default=False)
]


@app.callback()
def workflows(
    ctx: typer.Context,
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Without a subcommand: list the workflows."""
    if ctx.invoked_subcommand is None:
        list_workflows(url, token, as_json)


@app.command("list", epilog="Example: jobmonitor workflows list --json")
def list_workflows(url: Url = None, token: Token = None, as_json: Json = False) -> None:
    """List the workflows with their latest version and job counts."""
    api = client(url, token)
    with api, output.api_errors():
        items = api.workflows()["items"]
    if as_json:
        output.print_json(items)
        return
    if not items:
        output.err.print(
            "no workflows yet: `jobmonitor workflows register FILE` (or `jobmonitor seed` on the server)"
        )
        return
    table = Table(box=output.table_box(), pad_edge=False)
    for name in ("name", "version", "steps", "runs", "pending", "running", "failed", "description"):
        table.add_column(name, no_wrap=name != "description")
    for w in items:
        counts = w.get("job_counts") or {}
        table.add_row(
            w["name"],
            f"v{w['latest_version']}",
            str(w["step_count"]),
            str(w["execution_count"]),
            str(counts.get("pending", 0)),
            str(counts.get("running", 0)),
            str(counts.get("failed", 0)),
            output.compact(w.get("description") or "", 60),
        )
    output.out.print(table)


@app.command(epilog="Example: jobmonitor workflows show data_pipeline")
def show(
    name: Annotated[str, typer.Argument(help="The workflow's name (or id).", show_default=False)],
    url: Url = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """A workflow's latest definition: steps, dependencies, retries, input schema, versions."""
    api = client(url, token)
    with api, output.api_errors():
        detail = api.workflow(name)
    if as_json:
        output.print_json(detail)
        return
    definition = detail.get("definition") or {}
    output.out.print(
        Text.assemble(
            (detail["name"], "bold"),
            f" v{detail['version']} (latest v{detail['latest_version']}, "
            f"{len(detail.get('versions') or [])} version(s), {detail['execution_count']} run(s))",
        )
    )
    if detail.get("description"):
        output.out.print(detail["description"])
    output.out.print(_steps_table(definition.get("steps") or []))
    output.out.print(
        Text.assemble(
            ("input schema ", "dim"), output.compact(detail.get("input_schema") or {}, 300)
        )
    )
    policy = {k: v for k, v in (detail.get("concurrency") or {}).items() if v is not None}
    if policy:
        output.out.print(Text.assemble(("concurrency ", "dim"), output.compact(policy)))
    if definition.get("snapshot"):
        output.out.print(Text.assemble(("snapshot ", "dim"), definition["snapshot"]))


def _steps_table(steps: list[dict[str, Any]]) -> Table:
    table = Table(title="steps", title_justify="left", box=output.table_box(), pad_edge=False)
    for name in ("key", "action", "depends on", "condition", "retries", "timeout"):
        table.add_column(name, overflow="fold")
    for s in steps:
        retry = s.get("retry") or {}
        timeout = s.get("timeout_seconds")
        table.add_row(
            s["key"],
            s["action"],
            ", ".join(s.get("depends_on") or []),
            s.get("condition") or "",
            f"{retry.get('max_attempts', 1)} attempt(s)",
            f"{timeout:g} s" if timeout else "",
        )
    return table


@app.command(epilog="Example: jobmonitor workflows register examples/workflows/data_pipeline.json")
def register(file: File, url: Url = None, token: Token = None, as_json: Json = False) -> None:
    """Register a definition (admin): a new workflow, or a new version when it changed."""
    document = _load(file)
    api = client(url, token)
    offline = f"check it offline: jobmonitor workflows validate {file}"
    with api, output.api_errors({"invalid_definition": offline, "invalid_input": offline}):
        detail, created = api.register_workflow(document)
    if as_json:
        output.print_json(detail)
    elif created:
        output.err.print(f"registered {detail['name']} v{detail['version']}")
    else:
        output.err.print(
            f"{detail['name']} unchanged: v{detail['version']} is already this definition"
        )


@app.command(epilog="Example: jobmonitor workflows validate pipeline.yaml --no-check-actions")
def validate(
    file: File,
    check_actions: Annotated[
        bool,
        typer.Option(
            help="Check action names against the step modules of JOBMONITOR_STEP_MODULES."
        ),
    ] = True,
    as_json: Json = False,
) -> None:
    """Check a definition offline and list every problem with its path; exit 1 when invalid."""
    from backend.errors import InvalidDefinition
    from backend.workflows.definition import parse_definition

    document = _load(file)
    actions = _actions(check_actions, quiet=as_json)
    try:
        definition = parse_definition(document, actions)
    except InvalidDefinition as exc:
        problems = [{**p, "path": output.path_text(p.get("loc", []))} for p in exc.details or []]
        _report(file, problems, as_json)
        raise typer.Exit(output.FAILED) from None
    if as_json:
        output.print_json(
            {
                "file": str(file),
                "valid": True,
                "name": definition.name,
                "steps": len(definition.steps),
                "actions_checked": actions is not None,
                "problems": [],
            }
        )
        return
    checked = "" if actions is not None else " (action names not checked)"
    output.err.print(
        f"{file}: valid workflow {definition.name!r} with {len(definition.steps)} step(s){checked}"
    )


def _report(file: Path, problems: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        output.print_json({"file": str(file), "valid": False, "problems": problems})
        return
    output.err.print(Text(f"{file}: {len(problems)} problem(s)", style="red"))
    table = Table("path", "problem", box=output.table_box(), pad_edge=False)
    for p in problems:
        table.add_row(p["path"], p["msg"])
    output.out.print(table)


def _load(file: Path) -> Any:
    from backend.errors import InvalidDefinition
    from backend.workflows.definition import load_document

    try:
        text = file.read_text()
    except OSError as exc:
        output.fail(f"cannot read {file}: {exc.strerror or exc}")
    try:
        return load_document(text, file.name)
    except InvalidDefinition as exc:
        output.fail(f"{file}: {exc.message}", *output.details_lines(exc.details))


def _actions(check: bool, quiet: bool) -> list[str] | None:
    """Registered step names, or None (no check) when asked or when the modules do not import."""
    if not check:
        return None
    from backend.settings import get_settings
    from backend.steps import REGISTRY, load_step_modules

    modules = get_settings().step_modules
    try:
        load_step_modules(modules)
    except Exception as exc:  # user code: any import error means "cannot check", not a crash
        if not quiet:
            output.err.print(
                Text(
                    f"warning: cannot import the step modules {', '.join(modules)} ({exc}); "
                    "action names are not checked",
                    style="yellow",
                )
            )
        return None
    return list(REGISTRY.steps)
