"""The Reflex app: builds `rx.App` around the REST API and registers the pages."""

import reflex as rx

from backend.api.app import create_app
from jobmonitor import routes
from jobmonitor.navstate import NavState
from jobmonitor.pages.compare import CompareState, compare_page
from jobmonitor.pages.failures import FailuresState, failures_page
from jobmonitor.pages.human_steps import HumanState
from jobmonitor.pages.job_detail import JobState, job_detail_page
from jobmonitor.pages.job_history import HistoryState
from jobmonitor.pages.jobs import JobsState, jobs_page
from jobmonitor.pages.not_found import not_found_page
from jobmonitor.pages.signin import SignInState, signin_page
from jobmonitor.pages.workers import WorkersState, workers_page
from jobmonitor.pages.workflow_detail import WorkflowState, workflow_detail_page
from jobmonitor.pages.workflows import WorkflowsState, workflows_page

app = rx.App(
    api_transformer=create_app(), stylesheets=["/styles.css", "/job_page.css", "/shell.css"]
)
# the pages show a banner while the connection is lost (pages/shell.py), in place of Reflex's
# 20 px pulsing icon and its toast
app.app_wraps[(5, "Overlay")] = lambda _stateful: None
app.add_page(
    jobs_page, route=routes.HOME, title="Jobs · Jobmonitor", on_load=[JobsState.load, NavState.load]
)
app.add_page(
    jobs_page, route=routes.JOBS, title="Jobs · Jobmonitor", on_load=[JobsState.load, NavState.load]
)
app.add_page(
    job_detail_page,
    route=routes.JOB,
    title="Job · Jobmonitor",
    on_load=[HistoryState.load, JobState.load, HumanState.load, NavState.load],
)
app.add_page(
    signin_page, route=routes.SIGNIN, title="Sign in · Jobmonitor", on_load=SignInState.load
)
app.add_page(
    workflows_page,
    route=routes.WORKFLOWS,
    title="Workflows · Jobmonitor",
    on_load=[WorkflowsState.load, NavState.load],
)
app.add_page(
    workflow_detail_page,
    route=routes.WORKFLOW,
    title="Workflow · Jobmonitor",
    on_load=[WorkflowState.load, NavState.load],
)
app.add_page(
    compare_page,
    route=routes.COMPARE,
    title="Compare · Jobmonitor",
    on_load=[CompareState.load, NavState.load],
)
app.add_page(
    failures_page,
    route=routes.FAILURES,
    title="Failures · Jobmonitor",
    on_load=[FailuresState.load, NavState.load],
)
app.add_page(
    workers_page,
    route=routes.WORKERS,
    title="Workers · Jobmonitor",
    on_load=[WorkersState.load, NavState.load],
)
app.add_page(
    not_found_page, route="404", title="Page not found · Jobmonitor", on_load=NavState.load
)
