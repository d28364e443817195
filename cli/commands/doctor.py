"""`jobmonitor doctor`: the pre-flight checklist (before running any workflow) as one
command (GET /api/v1/doctor)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from apiclient.errors import Unavailable, Unreachable
from apiclient.sync import SyncClient
from cli import output
from cli.commands.common import Json, Token, Url, client

EPILOG = """Example:

  jobmonitor doctor && jobmonitor run data_pipeline --watch

Checks: database and Redis reachable, migrations current, workers alive against the configured
count (JOBMONITOR_WORKERS; dead and starting ones named), queue depth, running attempts with an
expired lease (stuck once a reaper pass has left them), jobs pending per workflow (failing when no
worker is on their queue), the reaper's last pass and what it recovered, failures of the last
24 h by error type. Exit code 1 when any check fails (warnings do not fail); the table's verdict
column and the last line name the failed checks.
"""


def doctor(url: Url = None, token: Token = None, as_json: Json = False) -> None:
    """Pre-flight checks before a run; one verdict per check (ok, warn, fail)."""
    api = client(url, token)
    with api, output.api_errors(), output.err.status("running checks"):
        report = _report(api)
    if as_json:
        output.print_json(report)
    else:
        print_checks(report["checks"], "all checks passed")
    raise typer.Exit(output.OK if report["ok"] else output.FAILED)


def print_checks(checks: list[dict[str, Any]], all_passed: str) -> None:
    """The table of checks, then a last line naming the failed ones."""
    output.out.print(checks_table(checks))
    failed = [c["name"] for c in checks if c["verdict"] == "fail"]
    output.err.print(
        Text(f"failed: {', '.join(failed)}", style="red")
        if failed
        else Text(all_passed, style="green")
    )


def _report(api: SyncClient) -> dict[str, Any]:
    """The API's report; when the API answers but cannot serve it (its database is down, so
    no token can even be checked), the readiness probe's view instead."""
    try:
        return api.doctor()
    except Unreachable:
        raise
    except Unavailable as exc:
        ready = api.readiness()
        checks = [
            {"name": "api", "verdict": "ok", "detail": f"answers at {api.base_url}", "data": {}}
        ]
        for name, check in (ready.get("checks") or {}).items():
            ok = bool(check.get("ok"))
            checks.append(
                {
                    "name": name,
                    "verdict": "ok" if ok else "fail",
                    "detail": "answers" if ok else str(check.get("error") or "unreachable"),
                    "data": {},
                }
            )
        checks.append(
            {
                "name": "other checks",
                "verdict": "fail",
                "detail": f"not run: {exc.message}",
                "data": {},
            }
        )
        return {"verdict": "fail", "ok": False, "checks": checks}


def checks_table(checks: list[dict[str, Any]]) -> Table:
    table = Table(box=output.table_box(), pad_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for c in checks:
        lines = [c["detail"], *_data_lines(c["name"], c.get("data") or {})]
        table.add_row(c["name"], output.status_text(c["verdict"]), "\n".join(lines))
    return table


def _data_lines(name: str, data: dict[str, Any]) -> list[str]:
    """The figures behind a verdict, one short line each."""
    if name == "workers":
        return [
            f"  {w['name']} ({'DEAD: process gone' if dead else w.get('state')}) queues: "
            f"{', '.join(w.get('queues') or [])}; "
            f"heartbeat {output.clock(w.get('last_heartbeat')).strip() or '-'}"
            for dead, key in ((False, "workers"), (True, "dead"))
            for w in data.get(key, [])
        ]
    if name == "reaper" and data.get("last_recovered"):
        recovered = data["last_recovered"]
        return [
            f"  at {output.clock(data.get('last_recovery_at')).strip()}: "
            + ", ".join(f"{kind} {n}" for kind, n in recovered["counts"].items())
        ] + [f"  lost attempt {i}" for i in recovered.get("lost", [])[:5]]
    if name == "stuck attempts":
        return [
            f"  job {a['job_id']} step {a['step_key']} on {a.get('worker_name') or '?'}, "
            f"lease expired {output.duration(a.get('expired_for'))} ago"
            for a in data.get("attempts", [])
        ]
    if name == "pending jobs":
        return [f"  {wf}: {n}" for wf, n in (data.get("by_workflow") or {}).items()]
    if name.startswith("failures"):
        return [f"  {kind}: {n}" for kind, n in (data.get("by_error_type") or {}).items()]
    return []


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(doctor)
