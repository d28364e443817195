"""Load the example workflows into a workspace (the telemetry contract's seeding command; the
same code as `jobmonitor seed`):

    python -m backend.scripts.seed_workflows --workspace-id <id> [--project-id <id>] [--skip-existing]

Reads JOBMONITOR_DATABASE_URL. Exit 0 when done, 2 for bad input (an unknown workspace, a
malformed id), with the reason on stderr."""

from __future__ import annotations

import argparse
import sys

from backend.errors import JobmonitorError
from backend.workflows.seeding import seed_examples


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m backend.scripts.seed_workflows",
        description="Load the example workflows into a workspace (idempotent).",
    )
    parser.add_argument("--workspace-id", required=True, help="An existing workspace's id.")
    parser.add_argument(
        "--project-id",
        help="Tag the workflows with this project (Jobmonitor groups by workspace; default: 'default').",
    )
    parser.add_argument(
        "--skip-existing", action="store_true", help="Leave workflows that already exist alone."
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        seeded = seed_examples(
            None,
            workspace_id=args.workspace_id,
            project_id=args.project_id,
            skip_existing=args.skip_existing,
        )
    except JobmonitorError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    for item in seeded:
        print(item.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
