"""Pages build (every Var expression compiles) and their pure helpers behave."""

from __future__ import annotations

import pytest

from apiclient import models as t
from jobmonitor import routes
from jobmonitor.pages.job_detail import default_step, job_detail_page
from jobmonitor.pages.jobs import jobs_page
from jobmonitor.pages.signin import signin_page
from jobmonitor.pages.workflow_detail import workflow_detail_page
from jobmonitor.pages.workflows import workflows_page
from jobmonitor.statuses import JobAction
from jobmonitor.viewmodels import StepRow, bulk_summary


@pytest.mark.parametrize(
    ("page", "texts"),
    [
        (
            jobs_page,
            [
                "New job",
                "Search jobs",
                "Cancel selected",
                "Delete selected",
                "Rows per page",
                "Retry",
            ],
        ),
        (
            job_detail_page,
            [
                "Job info",
                "Step timeline",
                "Step details",
                "Download logs",
                "Job not found",
                "Access denied",
            ],
        ),
        (signin_page, ["API token", "Sign in"]),
        (workflows_page, ["Workflows", "Success rate"]),
        (workflow_detail_page, ["Durations of recent jobs", "New job", "Workflow not found"]),
    ],
)
def test_pages_build(page: object, texts: list[str]) -> None:
    code = str(page())  # type: ignore[operator]
    for text in texts:
        assert text in code


def test_routes_are_the_contract() -> None:
    assert (routes.JOBS, routes.JOB, routes.WORKFLOWS, routes.WORKFLOW) == (
        "/jobs",
        "/jobs/[job_id]",
        "/workflows",
        "/workflows/[workflow_id]",
    )
    assert routes.job("a b") == "/jobs/a%20b"
    assert routes.signin(token="jm_x", next_path="/jobs/1") == "/signin?token=jm_x&next=%2Fjobs%2F1"
    assert routes.signin() == "/signin"


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (None, "/jobs"),
        ("/jobs/1", "/jobs/1"),
        ("//evil.example", "/jobs"),
        ("https://evil.example", "/jobs"),
        ("/signin", "/jobs"),
    ],
)
def test_only_local_paths_are_followed_after_signing_in(path: str | None, target: str) -> None:
    assert routes.safe_next(path) == target


def test_bulk_summary_names_what_was_refused() -> None:
    results = [
        t.BulkItem(id="aaaaaaaa-1", ok=True, status_before="running", status_after="cancelled"),
        t.BulkItem(
            id="bbbbbbbb-2",
            ok=False,
            status_before="completed",
            error={"code": "invalid_transition", "message": "job is completed"},
        ),
    ]
    assert (
        bulk_summary(JobAction.CANCEL, results)
        == "Cancelled 1 of 2 jobs. Not cancelled: bbbbbbbb: job is completed"
    )
    assert bulk_summary(JobAction.DELETE, results[:1]) == "Deleted 1 of 1 job."


def test_the_first_step_shown_is_the_running_one_else_the_failure() -> None:
    steps = [
        StepRow(key="a", status="completed"),
        StepRow(key="b", status="failed", error="boom"),
        StepRow(key="c", status="pending"),
    ]
    assert default_step(steps) == "b"
    assert default_step([*steps[:1], StepRow(key="r", status="running")]) == "r"
    assert default_step(steps[:1]) == "a"
    assert default_step([]) == ""
