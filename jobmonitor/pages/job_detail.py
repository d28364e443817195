"""JobDetailView (`/jobs/[job_id]`): job info, step timeline and step details, live while
the job runs (event stream, or polling every 2 s when the stream is down)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from jobmonitor import routes
from jobmonitor.components.copy import copy_button
from jobmonitor.components.json_view import json_section, labelled
from jobmonitor.components.log_view import LogControls
from jobmonitor.components.status_badge import status_badge
from jobmonitor.components.step_details import AttemptControls, step_details
from jobmonitor.components.time import timestamp
from jobmonitor.components.timeline import step_timeline
from jobmonitor.job_actions import job_action_button
from jobmonitor.live import DETAIL_POLL_SECONDS
from jobmonitor.pages.job_history import job_tabs
from jobmonitor.pages.job_state import DOWNLOAD_LOGS, JobState, default_step, scroll_to_step
from jobmonitor.pages.review_panel import human_panel
from jobmonitor.pages.shell import error_state, live_chip, page
from jobmonitor.pending_why import pending_why
from jobmonitor.rerun_from import rerun_from_button, rerun_from_dialog

__all__ = ["JobState", "default_step", "job_detail_page", "scroll_to_step"]


def _action_button(action: rx.Var[str]) -> rx.Component:
    return job_action_button(action, JobState.busy, JobState.job.id, JobState.act)


def _job_info() -> rx.Component:
    job = JobState.job
    return rx.vstack(
        rx.hstack(
            rx.heading("Job ", rx.code(job.id.to(str)[:8]), as_="h1", size="5"),
            copy_button(job.id, "Copy job ID"),
            align="center",
            spacing="2",
        ),
        status_badge(job.status),
        pending_why(job.status),
        rx.cond(
            job.error != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("circle-x")),
                rx.callout.text(rx.text("Job failed", weight="bold", as_="div"), job.error),
                color_scheme="red",
                role="alert",
                width="100%",
            ),
        ),
        rx.grid(
            labelled(
                "Workflow",
                rx.link(
                    job.workflow_name, href="/workflows/" + job.workflow_id, class_name="jm-wrap"
                ),
            ),
            labelled("Execution", "#" + job.execution_number.to_string()),
            labelled("Created", timestamp(job.created_at)),
            labelled("Started", timestamp(job.started_at)),
            labelled("Completed", timestamp(job.completed_at)),
            labelled("Duration", job.duration),
            labelled("Total cost", job.cost),
            labelled("Progress", job.progress_label),
            rx.cond(job.draft != "", labelled("Draft", job.draft)),
            columns="2",
            spacing="3",
            width="100%",
            class_name="jm-info-grid",
        ),
        rx.cond(
            job.rerun_of != "",
            rx.link(
                "Re-run of " + job.rerun_of.to(str)[:8], href="/jobs/" + job.rerun_of, size="2"
            ),
        ),
        rx.flex(
            rx.foreach(job.actions, _action_button),
            rx.button(
                rx.icon("download", size=14),
                "Download logs",
                size="2",
                variant="soft",
                color_scheme="gray",
                loading=JobState.busy == DOWNLOAD_LOGS,
                on_click=JobState.download_logs,
            ),
            rx.link(
                rx.button("Compare with…", size="2", variant="soft", color_scheme="gray"),
                href="/compare?a=" + job.id,
            ),
            wrap="wrap",
            spacing="2",  # Radix Flex's gap (a bare `gap` prop became CSS `gap: 2`, i.e. none)
        ),
        json_section("Input", JobState.job_input, open_=True),
        rx.cond(JobState.job_metadata != "", json_section("Metadata", JobState.job_metadata)),
        rx.cond(JobState.job_output != "", json_section("Output", JobState.job_output, open_=True)),
        spacing="3",
        width="100%",
        align="start",
    )


def _panel(title: str, *children: rx.Component, **props: Any) -> rx.Component:
    return rx.el.section(
        rx.card(
            rx.vstack(
                rx.heading(title, as_="h2", size="3", color_scheme="gray"),
                *children,
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        aria_label=title,
        class_name="jm-panel",
        **props,
    )


def _timeline_panel() -> rx.Component:
    return _panel(
        "Step timeline",
        rx.hstack(
            rx.cond(
                JobState.job.status == "running",
                rx.progress(
                    value=JobState.job.progress, max=100, width="100%", aria_label="Job progress"
                ),
            ),
            width="100%",
        ),
        rx.scroll_area(
            step_timeline(
                JobState.steps, JobState.selected_key, JobState.ticks, JobState.select_step
            ),
            type="auto",
            scrollbars="vertical",
            class_name="jm-timeline-scroll",
        ),
    )


def _loaded() -> rx.Component:
    return rx.grid(
        human_panel(),
        _panel("Job info", _job_info()),
        _timeline_panel(),
        _panel(
            "Step details",
            rerun_from_button(JobState.job.id, JobState.selected_key, JobState.job.status),
            step_details(JobState.selected, JobState.detail, _attempt_controls(), _log_controls()),
        ),
        class_name="jm-three-panels",
        width="100%",
    )


def _attempt_controls() -> AttemptControls:
    return AttemptControls(
        attempts=JobState.attempts,
        shown=JobState.selected_attempt,
        number=JobState.attempt_number,
        pinned=JobState.attempt_pinned,
        countdown=JobState.retry_countdown,
        on_select=JobState.select_attempt,
        on_follow=JobState.follow_current_attempt,
        on_tick=JobState.tick_retry_clock,
    )


def _log_controls() -> LogControls:
    return LogControls(
        lines=JobState.shown_logs,
        total=JobState.logs.length(),
        level_label=JobState.log_level_label,
        query=JobState.log_query,
        paused=JobState.log_paused_at != 0,
        held=JobState.held_log_lines,
        live=(JobState.selected.status == "running") | (JobState.selected.status == "queued"),
        on_level=JobState.set_log_level_label,
        on_query=JobState.set_log_query,
        on_pause=JobState.pause_logs,
        on_follow=JobState.follow_logs,
    )


def _failed_load() -> rx.Component:
    back = rx.link(rx.button("Back to jobs", variant="soft"), href=routes.JOBS)
    return rx.match(
        JobState.load_error,
        (
            "not_found",
            error_state(
                "Job not found",
                "No job with this ID exists in your workspace.",
                back,
                icon="file-question",
            ),
        ),
        (
            "forbidden",
            error_state(
                "Access denied", "Your token may not read this job.", back, icon="shield-alert"
            ),
        ),
        ("signed_out", error_state("Signed out", "Sign in again to see this job.", icon="log-out")),
        error_state(
            "Could not load the job",
            JobState.load_message,
            rx.button("Retry", on_click=JobState.retry),
            back,
            icon="wifi-off",
        ),
    )


def job_detail_page() -> rx.Component:
    return page(
        rx.hstack(
            rx.link(
                rx.hstack(rx.icon("chevron-left", size=14), "Jobs", spacing="1", align="center"),
                href=routes.JOBS,
                size="2",
            ),
            rx.spacer(),
            rx.cond(JobState.load_error == "", live_chip_or_done()),
            width="100%",
            align="center",
        ),
        rx.cond(
            JobState.load_error != "",
            _failed_load(),
            rx.cond(
                JobState.loading,
                error_state("Loading job…", "", icon="loader-circle"),
                job_tabs(_loaded()),
            ),
        ),
        rerun_from_dialog(),
    )


def live_chip_or_done() -> rx.Component:
    """Live/polling while the job can still change; nothing once it is finished."""
    return rx.cond(
        (JobState.job.status == "pending") | (JobState.job.status == "running"),
        live_chip(JobState.live, DETAIL_POLL_SECONDS),
    )
