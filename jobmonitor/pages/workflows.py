"""Workflows (`/workflows`): every workflow with its job counts and success rate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from apiclient.errors import ApiError, Unauthorized
from jobmonitor.components.guard import guarded_button
from jobmonitor.create_job import CreateJobState, create_job_dialog
from jobmonitor.keyboard import ROW
from jobmonitor.pages.shell import error_state, page
from jobmonitor.state import AccessState, client_of, requires_sign_in, signin_redirect
from jobmonitor.viewmodels import WorkflowRow, workflow_row


class WorkflowsState(rx.State):
    rows: list[WorkflowRow] = []
    loading: bool = True
    error: str = ""

    @rx.event
    @requires_sign_in
    async def load(self) -> AsyncIterator[Any]:
        self.loading, self.error = True, ""
        yield
        try:
            self.rows = [workflow_row(w) for w in await (await client_of(self)).workflows()]
        except Unauthorized:
            yield signin_redirect(self.router.url.path)
        except ApiError as exc:
            self.error = exc.message
        self.loading = False


def _row(w: rx.Var[WorkflowRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(w.name, href="/workflows/" + w.id, weight="medium"),
                rx.text(w.description, size="1", color_scheme="gray", class_name="jm-clamp"),
                spacing="1",
            ),
            max_width="520px",
        ),
        rx.table.cell(w.steps),
        rx.table.cell(w.executions),
        rx.table.cell(w.running),
        rx.table.cell(w.completed),
        rx.table.cell(w.failed),
        rx.table.cell(w.success_rate),
        rx.table.cell(
            guarded_button(
                "New job",
                size="1",
                variant="soft",
                on_click=CreateJobState.open_dialog(w.id),
                allowed=AccessState.can_operate,
                reason=AccessState.operate_denied,
            )
        ),
        custom_attrs={"data-workflow": w.name, ROW: ""},
    )


def _table() -> rx.Component:
    headers = ("Workflow", "Steps", "Jobs", "Active", "Completed", "Failed", "Success rate", "")
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(WorkflowsState.rows, _row)),
        width="100%",
        variant="surface",
    )


def workflows_page() -> rx.Component:
    return page(
        rx.hstack(
            rx.heading("Workflows", as_="h1", size="6"),
            rx.spacer(),
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh",
                variant="soft",
                on_click=WorkflowsState.load,
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            WorkflowsState.error != "",
            error_state(
                "Could not load workflows",
                WorkflowsState.error,
                rx.button("Retry", on_click=WorkflowsState.load),
                icon="wifi-off",
            ),
            rx.cond(
                WorkflowsState.loading & (WorkflowsState.rows.length() == 0),
                error_state("Loading workflows…", "", icon="loader-circle"),
                rx.cond(
                    WorkflowsState.rows.length() == 0,
                    rx.text(
                        "No workflows yet: register one with `jobmonitor workflow register` or the API.",
                        color_scheme="gray",
                    ),
                    _table(),
                ),
            ),
        ),
        create_job_dialog(),
    )
