"""Seed 000's watcher: print only the status transitions of a workflow job (the job's status,
each step's status change) until it ends; exit 0 when it completed, 1 when it failed or was
cancelled. A thin wrapper over `jobmonitor watch` (same code):

    python tools/workflow_watch.py --base-url "$BASE_URL" --token "$AUTH_TOKEN" \\
        --job-id "$JOB_ID" --interval 2

`--base-url` may end in /api or /api/v1; `--interval` is the polling fallback's period.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: the repository's packages
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    import typer

    from cli.commands.run import watch_job

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://localhost:8000/api")
    parser.add_argument("--token", required=True, help="a bearer token")
    parser.add_argument("--job-id", required=True)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    parser.add_argument("--json", action="store_true", help="one JSON object per transition")
    args = parser.parse_args(argv)
    if not 0.2 <= args.interval <= 3600:
        parser.error("--interval must be between 0.2 and 3600 seconds")
    try:
        return watch_job(args.job_id, args.base_url, args.token, args.json, args.interval)
    except typer.Exit as exc:  # an API error, already reported
        return int(exc.exit_code)


if __name__ == "__main__":
    sys.exit(main())
