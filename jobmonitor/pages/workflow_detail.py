"""A workflow (`/workflows/[workflow_id]`): its metrics summary (success rate, executions,
durations, cost), the durations of recent jobs coloured by status, the runs grid (recent runs x
steps), the run history (requester, mode, before -> after), the DAG, and "New job" with the
workflow preselected."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import reflex as rx

from apiclient.client import ApiClient
from apiclient.errors import ApiError, Unauthorized
from apiclient.format import cost_text, duration_text
from jobmonitor import dag, routes
from jobmonitor.automation_view import BudgetView, ScheduleView, budget_view, schedule_view
from jobmonitor.charts import duration_points
from jobmonitor.components.automation_tabs import automation_tabs
from jobmonitor.components.dag_view import dag_view
from jobmonitor.components.duration_chart import duration_chart
from jobmonitor.components.guard import guarded_button
from jobmonitor.components.json_view import json_section
from jobmonitor.components.runs_grid import runs_grid
from jobmonitor.components.section import card_section
from jobmonitor.create_job import CreateJobState, create_job_dialog
from jobmonitor.format import percent, pretty_json
from jobmonitor.pages.shell import error_state, page
from jobmonitor.run_history import RunHistoryRow, run_history_table, run_rows
from jobmonitor.runs_grid import (
    DEFAULT_GRID_RUNS,
    GRID_SIZES,
    GridColumn,
    GridRowView,
    grid_columns,
    grid_rows,
)
from jobmonitor.state import (
    AccessState,
    action_error_toast,
    client_of,
    error_kind,
    requires_sign_in,
    signin_redirect,
)

RECENT_JOBS = 50
RECENT_RUNS = 20


@dataclass
class Metric:
    label: str = ""
    value: str = ""


class WorkflowState(rx.State):
    wf_id: str = ""
    name: str = ""
    description: str = ""
    version: int = 0
    metrics: list[Metric] = []
    points: list[dict[str, Any]] = []
    grid_columns: list[GridColumn] = []
    grid_rows: list[GridRowView] = []
    grid_size: str = str(DEFAULT_GRID_RUNS)
    longest: str = ""
    nodes: list[dag.Node] = []
    edges: list[dag.Edge] = []
    dag_width: int = 0
    dag_height: int = 0
    schema_json: str = ""
    runs: list[RunHistoryRow] = []

    schedules: list[ScheduleView] = []
    budgets: list[BudgetView] = []
    loading: bool = True
    load_error: str = ""
    load_message: str = ""

    @rx.event
    @requires_sign_in
    async def load(self) -> AsyncIterator[Any]:
        ref = str(self.router.url.path).rstrip("/").rpartition("/")[2]
        if ref != self.wf_id:
            self.wf_id, self.name, self.nodes, self.edges, self.points, self.metrics = (
                ref,
                "",
                [],
                [],
                [],
                [],
            )
        self.loading, self.load_error = True, ""
        yield
        try:
            await self._fetch(await client_of(self), ref)
        except ApiError as exc:
            self.load_error, self.load_message = error_kind(exc), exc.message
            if isinstance(exc, Unauthorized):
                yield signin_redirect(self.router.url.path)
        self.loading = False

    async def _fetch(self, client: ApiClient, ref: str) -> None:
        workflow = await client.workflow(ref)
        metrics, executions, runs, grid = await asyncio.gather(
            client.workflow_metrics(workflow.id),
            client.workflow_executions(workflow.id, limit=RECENT_JOBS),
            client.runs(workflow.id, limit=RECENT_RUNS),
            client.runs_grid(workflow.id, runs=int(self.grid_size)),
        )
        self.runs = run_rows(runs.items)
        self.grid_columns, self.grid_rows = grid_columns(grid), grid_rows(grid)
        self.wf_id, self.name, self.description = workflow.id, workflow.name, workflow.description
        self.version = workflow.version or workflow.latest_version
        self.metrics = [
            Metric(
                "Success rate",
                percent(
                    metrics.success_rate
                    if metrics.successful_executions + metrics.failed_executions
                    else None
                ),
            ),
            Metric("Executions", f"{metrics.total_executions:,}"),
            Metric(
                "Completed / failed",
                f"{metrics.successful_executions:,} / {metrics.failed_executions:,}",
            ),
            Metric(
                "Average duration",
                duration_text(
                    metrics.average_duration_seconds if metrics.sampled_executions else None
                ),
            ),
            Metric(
                "Min / max",
                f"{duration_text(metrics.min_duration_seconds)} / {duration_text(metrics.max_duration_seconds)}",
            ),
            Metric("p95 duration", duration_text(metrics.p95_duration_seconds)),
            Metric("Total cost", cost_text(metrics.total_cost_usd)),
        ]
        self.points = duration_points(executions.items)
        self.longest = "longest " + duration_text(
            max((e.duration or 0 for e in executions.items), default=None)
        )
        steps = [
            dag.StepRef(s["key"], s.get("name") or s["key"], tuple(s.get("depends_on", [])))
            for s in workflow.definition.get("steps", [])
        ]
        layout = dag.layout(steps)
        self.nodes, self.edges, self.dag_width, self.dag_height = (
            layout.nodes,
            layout.edges,
            layout.width,
            layout.height,
        )
        self.schema_json = pretty_json(workflow.input_schema)
        await self._fetch_automation(client, workflow.id)

    @rx.event
    async def set_grid_size(self, size: str) -> AsyncIterator[Any]:
        """The runs grid's "Runs" picker: fetch that many recent runs."""
        if size not in GRID_SIZES:
            return
        self.grid_size = size
        try:
            grid = await (await client_of(self)).runs_grid(self.wf_id, runs=int(size))
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        self.grid_columns, self.grid_rows = grid_columns(grid), grid_rows(grid)

    async def _fetch_automation(self, client: ApiClient, workflow_id: str) -> None:
        schedules, budgets = await asyncio.gather(
            client.schedules(workflow_id), client.budgets(workflow_id)
        )
        times, daily = await asyncio.gather(
            asyncio.gather(*(client.schedule_next(s.id, 5) for s in schedules)),
            asyncio.gather(*(client.budget_daily(b.id, 14) for b in budgets)),
        )
        self.schedules = [schedule_view(s, x) for s, x in zip(schedules, times, strict=True)]
        self.budgets = [budget_view(b, d) for b, d in zip(budgets, daily, strict=True)]


def _metric(m: rx.Var[Metric]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(m.label, size="1", color_scheme="gray"),
            rx.text(m.value, size="5", weight="bold"),
            spacing="1",
        ),
        role="group",
        aria_label=m.label,
    )


def _loaded() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.heading(WorkflowState.name, as_="h1", size="6"),
                rx.text(WorkflowState.description, size="2", color_scheme="gray"),
                rx.text(
                    "Version " + WorkflowState.version.to_string(), size="1", color_scheme="gray"
                ),
                spacing="1",
                max_width="900px",
            ),
            rx.spacer(),
            rx.link(rx.button("Jobs", variant="soft"), href="/jobs?q=" + WorkflowState.name),
            guarded_button(
                rx.icon("plus", size=14),
                "New job",
                on_click=CreateJobState.open_dialog(WorkflowState.wf_id),
                allowed=AccessState.can_operate,
                reason=AccessState.operate_denied,
            ),
            width="100%",
            align="start",
        ),
        rx.grid(
            rx.foreach(WorkflowState.metrics, _metric),
            columns="repeat(auto-fill, minmax(170px, 1fr))",
            spacing="3",
            width="100%",
        ),
        card_section(
            "Durations of recent jobs", duration_chart(WorkflowState.points, WorkflowState.longest)
        ),
        card_section(
            "Runs grid",
            runs_grid(
                WorkflowState.grid_columns,
                WorkflowState.grid_rows,
                WorkflowState.grid_size,
                WorkflowState.set_grid_size,
            ),
        ),
        card_section("Run history", run_history_table(WorkflowState.runs)),
        card_section(
            "Steps",
            dag_view(
                WorkflowState.nodes,
                WorkflowState.edges,
                WorkflowState.dag_width,
                WorkflowState.dag_height,
            ),
            json_section("Input schema", WorkflowState.schema_json),
        ),
        card_section("Automation", automation_tabs(WorkflowState.schedules, WorkflowState.budgets)),
        spacing="4",
        width="100%",
    )


def workflow_detail_page() -> rx.Component:
    back = rx.link(rx.button("Back to workflows", variant="soft"), href=routes.WORKFLOWS)
    return page(
        rx.link(
            rx.hstack(rx.icon("chevron-left", size=14), "Workflows", spacing="1", align="center"),
            href=routes.WORKFLOWS,
            size="2",
        ),
        rx.match(
            WorkflowState.load_error,
            (
                "",
                rx.cond(
                    WorkflowState.loading & (WorkflowState.name == ""),
                    error_state("Loading workflow…", "", icon="loader-circle"),
                    _loaded(),
                ),
            ),
            (
                "not_found",
                error_state(
                    "Workflow not found",
                    "No workflow with this ID or name exists in your workspace.",
                    back,
                    icon="file-question",
                ),
            ),
            (
                "forbidden",
                error_state(
                    "Access denied",
                    "Your token may not read this workflow.",
                    back,
                    icon="shield-alert",
                ),
            ),
            error_state(
                "Could not load the workflow",
                WorkflowState.load_message,
                rx.button("Retry", on_click=WorkflowState.load),
                back,
                icon="wifi-off",
            ),
        ),
        create_job_dialog(),
    )
