"""The monitor's routes (contracts: links printed by the CLI point here) and URL builders."""

from __future__ import annotations

from urllib.parse import quote, urlencode

HOME = "/"
JOBS = "/jobs"
JOB = "/jobs/[job_id]"
WORKFLOWS = "/workflows"
WORKFLOW = "/workflows/[workflow_id]"
SIGNIN = "/signin"
COMPARE = "/compare"
FAILURES = "/failures"
WORKERS = "/workers"


def job(job_id: str) -> str:
    return f"{JOBS}/{quote(job_id, safe='')}"


def job_step(job_id: str, step_key: str) -> str:
    """The job page with a step selected (`?step=<key>`: the runs grid's cells link here)."""
    return f"{job(job_id)}?{urlencode({'step': step_key})}"


def workflow(workflow_id: str) -> str:
    return f"{WORKFLOWS}/{quote(workflow_id, safe='')}"


def compare(a: str, b: str | None = None) -> str:
    params = {k: v for k, v in {"a": a, "b": b}.items() if v}
    return f"{COMPARE}?{urlencode(params)}"


def jobs_search(query: str) -> str:
    """The job list with a search (a saved view's link)."""
    return f"{JOBS}?{urlencode({'q': query})}"


def signin(token: str | None = None, next_path: str | None = None) -> str:
    """`/signin?token=...` fills the token in and signs in; `next` is where to go after."""
    params = {k: v for k, v in {"token": token, "next": next_path}.items() if v}
    return f"{SIGNIN}?{urlencode(params)}" if params else SIGNIN


def safe_next(path: str | None) -> str:
    """Only same-site paths are followed after signing in."""
    if not path or not path.startswith("/") or path.startswith("//") or path.startswith(SIGNIN):
        return JOBS
    return path
