"""JobListView (`/jobs` and `/`): filter tabs with counts, search, created-date range, a
sortable Created column, pagination, the job table with row and bulk actions. Its state (the
query, kept in the URL; the live watcher; the actions) is `jobs_state.JobsState`."""

from __future__ import annotations

import reflex as rx

from jobmonitor.components.cancel_confirm import cancel_dialog
from jobmonitor.components.compare_link import compare_selected
from jobmonitor.components.copy import copy_button
from jobmonitor.components.guard import guarded_button
from jobmonitor.components.job_action import action_label
from jobmonitor.components.search_help import search_help
from jobmonitor.components.status_badge import status_badge, waiting_chip
from jobmonitor.components.time import relative_time
from jobmonitor.create_job import CreateJobState, create_job_dialog
from jobmonitor.jobs_filters import PAGE_SIZES, date_range, sort_header
from jobmonitor.keyboard import ROW, SEARCH
from jobmonitor.live import LIST_POLL_SECONDS
from jobmonitor.pages.jobs_state import JobsState
from jobmonitor.pages.shell import error_state, live_chip, page
from jobmonitor.saved_views import save_view_button, save_view_dialog
from jobmonitor.state import AccessState
from jobmonitor.statuses import TABS, JobAction
from jobmonitor.viewmodels import JobRow

__all__ = ["JobsState", "jobs_page"]


def _tab(key: str, label: str) -> rx.Component:
    count = JobsState.counts[key if key != "all" else ""].to(int)
    return rx.tabs.trigger(
        rx.hstack(
            rx.text(label),
            rx.badge(count, variant="soft", color_scheme="gray", radius="full"),
            spacing="2",
            align="center",
        ),
        value=key,
        aria_label=f"{label} " + count.to_string(),
    )


def _toolbar() -> rx.Component:
    return rx.vstack(
        rx.tabs.root(
            rx.tabs.list(*[_tab(key or "all", label) for key, label in TABS]),
            value=JobsState.tab,
            on_change=JobsState.set_tab,
            width="100%",
        ),
        rx.hstack(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder="Search: workflow, job ID, input.mode=fast, error~timeout…",
                aria_label="Search jobs",
                title="Search jobs (press / to come here)",
                value=JobsState.search,
                on_change=JobsState.set_search,
                width="360px",
                custom_attrs={SEARCH: ""},
            ),
            search_help(),
            date_range(
                JobsState.date_from,
                JobsState.date_to,
                JobsState.set_date_from,
                JobsState.set_date_to,
                JobsState.clear_dates,
            ),
            rx.spacer(),
            save_view_button(JobsState.search),
            width="100%",
            align="center",
            wrap="wrap",
            spacing="3",
        ),
        width="100%",
        spacing="3",
    )


def _actions_menu(row: rx.Var[JobRow]) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                rx.icon("ellipsis", size=16),
                variant="ghost",
                size="1",
                aria_label="Actions for job " + row.short_id,
            )
        ),
        rx.menu.content(
            rx.foreach(
                row.actions,
                lambda a: rx.cond(
                    AccessState.can_operate | (a == JobAction.VIEW.value),
                    rx.menu.item(action_label(a), on_click=JobsState.row_action(row.id, a)),
                ),
            )
        ),
    )


def _row(row: rx.Var[JobRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=JobsState.selected.contains(row.id),
                on_change=lambda checked: JobsState.toggle(row.id, checked),
                aria_label="Select job " + row.short_id,
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.link(
                    rx.code(row.short_id, variant="ghost"),
                    href="/jobs/" + row.id,
                    aria_label="Job " + row.short_id,
                ),
                copy_button(row.id, "Copy job ID"),
                spacing="1",
                align="center",
            )
        ),
        rx.table.cell(rx.link(row.workflow_name, href="/workflows/" + row.workflow_id)),
        rx.table.cell(rx.hstack(status_badge(row.status), waiting_chip(row.waiting), wrap="wrap")),
        rx.table.cell(relative_time(row.created_at)),
        rx.table.cell(relative_time(row.started_at)),
        rx.table.cell(row.duration),
        rx.table.cell(row.progress),
        rx.table.cell(_actions_menu(row)),
        custom_attrs={"data-job-id": row.id, "data-status": row.status, ROW: ""},
        align="center",
        key=row.id,  # not the index: a new row must not re-render the others' contents
    )


def _header() -> rx.Component:
    return rx.table.header(
        rx.table.row(
            rx.table.column_header_cell(
                rx.checkbox(
                    checked=JobsState.all_selected,
                    on_change=JobsState.toggle_all,
                    aria_label="Select all jobs on this page",
                ),
                width="36px",
            ),
            *[rx.table.column_header_cell(h) for h in ("Job ID", "Workflow", "Status")],
            sort_header("Created", JobsState.sort, JobsState.toggle_sort),
            *[rx.table.column_header_cell(h) for h in ("Started", "Duration", "Progress")],
            rx.table.column_header_cell(rx.text("Actions", class_name="jm-sr-only"), width="48px"),
        )
    )


def _table() -> rx.Component:
    table = rx.table.root(
        _header(),
        rx.table.body(rx.foreach(JobsState.rows, _row)),
        width="100%",
        variant="surface",
        on_mouse_enter=JobsState.pointer(True),
        on_mouse_leave=JobsState.pointer(False),
    )
    held = rx.text(  # below the table: a notice above it would move the rows too
        JobsState.held.to_string(),
        " new job(s): shown when the pointer leaves the table",
        size="1",
        color_scheme="gray",
        role="status",
    )
    return rx.fragment(table, rx.cond(JobsState.held > 0, held))


def _pagination() -> rx.Component:
    return rx.hstack(
        rx.el.label("Rows per page", html_for="page-size", class_name="jm-label"),
        rx.el.select(
            *[rx.el.option(n, value=n) for n in PAGE_SIZES],
            id="page-size",
            value=JobsState.page_size.to_string(),
            on_change=JobsState.set_page_size,
            class_name="jm-native-select",
        ),
        rx.text(JobsState.range_label, size="2", role="status", aria_label="Jobs shown"),
        rx.icon_button(
            rx.icon("chevron-left"),
            variant="soft",
            size="1",
            aria_label="Previous page",
            disabled=JobsState.page == 0,
            on_click=JobsState.go_page(-1),
        ),
        rx.icon_button(
            rx.icon("chevron-right"),
            variant="soft",
            size="1",
            aria_label="Next page",
            disabled=~JobsState.has_next,
            on_click=JobsState.go_page(1),
        ),
        justify="end",
        align="center",
        spacing="3",
        width="100%",
    )


def _bulk_bar() -> rx.Component:
    return rx.cond(
        JobsState.selected.length() > 0,
        rx.hstack(
            rx.text(JobsState.selected.length().to_string() + " selected", size="2"),
            guarded_button(
                "Cancel selected",
                size="1",
                variant="soft",
                color_scheme="orange",
                on_click=JobsState.ask_bulk(JobAction.CANCEL),
                allowed=AccessState.can_operate,
                reason=AccessState.operate_denied,
            ),
            guarded_button(
                "Delete selected",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=JobsState.ask_bulk(JobAction.DELETE),
                allowed=AccessState.can_operate,
                reason=AccessState.operate_denied,
            ),
            compare_selected(JobsState.selected),
            align="center",
            spacing="3",
        ),
    )


def _confirm_dialog() -> rx.Component:
    deleting = JobsState.confirm_action == JobAction.DELETE.value
    verb = rx.cond(deleting, JobAction.DELETE.label, JobAction.CANCEL.label)
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(
                verb + " " + JobsState.selected.length().to_string() + " selected jobs?"
            ),
            rx.alert_dialog.description(
                rx.cond(
                    deleting,
                    "Deleting removes the jobs with their steps, attempts and logs. Only finished jobs can be deleted.",
                    "Running steps are stopped. Only pending or running jobs can be cancelled.",
                ),
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep them", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Yes, " + verb.lower(), color_scheme="red", on_click=JobsState.run_bulk
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=JobsState.confirm_action != "",
        on_open_change=JobsState.set_confirm_open,
    )


def _summary() -> rx.Component:
    return rx.cond(
        JobsState.summary != "",
        rx.callout.root(
            rx.hstack(
                rx.callout.text(JobsState.summary),
                rx.icon_button(
                    rx.icon("x", size=14),
                    variant="ghost",
                    size="1",
                    aria_label="Dismiss",
                    on_click=JobsState.dismiss_summary,
                ),
                justify="between",
                width="100%",
            ),
            role="status",
            aria_label="Bulk action result",
            width="100%",
        ),
    )


def _body() -> rx.Component:
    return rx.cond(
        JobsState.error != "",
        error_state(
            "Could not load jobs",
            JobsState.error,
            rx.button("Retry", on_click=JobsState.refresh),
            icon="wifi-off",
        ),
        rx.cond(
            JobsState.loading & (JobsState.rows.length() == 0),
            error_state("Loading jobs…", "", icon="loader-circle"),
            rx.cond(
                JobsState.rows.length() == 0,
                rx.center(
                    rx.vstack(
                        rx.text(
                            rx.cond(
                                JobsState.filtered,
                                "No jobs match.",
                                "No jobs yet.",
                            ),
                            size="3",
                        ),
                        guarded_button(
                            rx.icon("plus", size=14),
                            "Start a job",
                            variant="soft",
                            on_click=CreateJobState.open_dialog(""),
                            allowed=AccessState.can_operate,
                            reason=AccessState.operate_denied,
                        ),
                        align="center",
                    ),
                    padding_y="48px",
                    width="100%",
                ),
                rx.vstack(_table(), _pagination(), width="100%", spacing="3"),
            ),
        ),
    )


def jobs_page() -> rx.Component:
    return page(
        rx.hstack(
            rx.heading("Jobs", as_="h1", size="6"),
            live_chip(JobsState.live, LIST_POLL_SECONDS),
            rx.spacer(),
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh",
                variant="soft",
                on_click=JobsState.refresh,
                loading=JobsState.loading,
            ),
            guarded_button(
                rx.icon("plus", size=14),
                "New job",
                on_click=CreateJobState.open_dialog(""),
                allowed=AccessState.can_operate,
                reason=AccessState.operate_denied,
            ),
            width="100%",
            align="center",
        ),
        _toolbar(),
        _bulk_bar(),
        _summary(),
        _body(),
        _confirm_dialog(),
        cancel_dialog(
            JobsState.confirm_job != "",
            JobsState.set_cancel_open,
            "Cancel job " + JobsState.confirm_job.to(str)[:8] + "?",
            JobsState.cancel_confirmed,
        ),
        create_job_dialog(),
        save_view_dialog(),
    )
